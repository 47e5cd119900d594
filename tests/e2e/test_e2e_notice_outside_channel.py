"""A click on a card in a public channel by someone who is not in it, through the wire.

Anyone in the workspace can read a public channel and click its cards without joining it;
Slack refuses an ephemeral message to a person outside the channel
(``chat.postEphemeral``: ``user_not_in_channel``). Before, such a clicker was told nothing:
the refusal ("not an approver") was dropped as undeliverable, and the click looked lost.
Now the note goes to their direct message with signoff instead, naming the channel.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from signoff_e2e_kit import OPS, asked_under, decision, has_buttons, write_policy

from bot.cards import APPROVE
from bot.config import Settings
from localslack import LocalSlack
from localslack.state import im_channel_id

if TYPE_CHECKING:
    from conftest import BotFactory

BOB_ONLY = '[tools.restart_service]\napprovers = ["U0BOB"]\n'


async def test_a_refused_click_from_outside_a_public_channel_is_told_in_a_direct_message(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    policy = write_policy(tmp_path / "policy.toml", BOB_ONLY)
    _, _, card, approval = await asked_under(slack, start_bot, policy, "restart api")
    await slack.leave_channel(channel=OPS, user="U0CAROL")

    await slack.click_button(channel=OPS, ts=card["ts"], user="U0CAROL", action_id=APPROVE)
    told = await slack.wait_for_message(
        channel=im_channel_id("U0CAROL"), from_bot=True, text_contains="not an approver"
    )
    assert f"<#{OPS}>" in told["text"], told["text"]
    assert decision(settings.home, approval) is None
    assert has_buttons(card)
