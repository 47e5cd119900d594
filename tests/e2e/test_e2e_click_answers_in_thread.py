"""Answers to a click on a card that lives inside the asker's thread (the usual case) are
ephemeral in that thread: ``thread_ts`` is the thread's, from the click's container, not
the card's own ts and not the channel.

docs/slack.md: "Refused, late and double clicks get an ephemeral message in the card's
thread and leave the request as it was." The other tests of it click a card posted at
the top level of a channel, where the card is its own thread, so a bot that answered in
a thread named after the card's ts would pass them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from signoff_e2e_kit import (
    OPS,
    asked_under,
    bot_reply,
    decision,
    ephemeral,
    has_buttons,
    restarts,
    stale_click,
    write_policy,
)

from bot.card_governance import EDIT
from bot.cards import APPROVE, DENY
from bot.config import Settings
from localslack import LocalSlack

if TYPE_CHECKING:
    from conftest import BotFactory

TWO_NEEDED = '[tools.restart_service]\napprovers = ["U0BOB", "U0DAVE"]\nquorum = 2\n'


def in_thread(told: dict[str, Any], thread: str) -> None:
    where = (told.get("channel"), told.get("thread_ts"))
    assert where == (OPS, thread), f"{told.get('text')!r} was posted at {where}"


async def test_answers_to_clicks_on_a_card_inside_a_thread_are_ephemeral_in_that_thread(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    policy = write_policy(tmp_path / "policy.toml", TWO_NEEDED)
    bot, thread, card, approval = await asked_under(slack, start_bot, policy, "restart api")
    assert card.get("thread_ts") == thread != card["ts"], "the card is not a reply in the thread"

    # A refusal: Alice may not decide her own request.
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0ALICE", action_id=APPROVE)
    in_thread(await ephemeral(slack, "U0ALICE", "You may not decide"), thread)
    # A note: Bob's approval counts, one more is needed; then his second click.
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    in_thread(await ephemeral(slack, "U0BOB", "Your approval is counted: 1 of 2."), thread)
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    in_thread(await ephemeral(slack, "U0BOB", "already approved"), thread)
    await bot.engine.idle()
    assert decision(settings.home, approval) is None
    assert has_buttons(slack.message(channel=OPS, ts=card["ts"]))

    # Dave completes the quorum; Carol's client still shows the open card.
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0DAVE", action_id=APPROVE)
    await bot_reply(slack, thread, "restart_service` finished")
    await stale_click(slack, ts=card["ts"], user="U0CAROL", action_id=DENY, blocks=card["blocks"])
    in_thread(await ephemeral(slack, "U0CAROL", "Already decided"), thread)
    # The governance buttons answer the same way (their own handler).
    await stale_click(slack, ts=card["ts"], user="U0CAROL", action_id=EDIT, blocks=card["blocks"])
    in_thread(await ephemeral(slack, "U0CAROL", "You may not edit"), thread)

    await bot.engine.idle()
    assert restarts(settings.home) == 1
    # Nothing of it reached the channel or the thread as a message everyone sees.
    visible = [str(m.get("text")) for m in slack.thread(channel=OPS, ts=thread)]
    for said in ("You may not", "counted", "already approved", "Already decided"):
        assert not [t for t in visible if said in t], visible
    assert all(e.get("thread_ts") == thread for e in slack.ephemeral_messages(user="U0CAROL"))
