"""The Edit & approve modal never prefills a value Slack would draw as something else.

The card shows an argument holding a right-to-left override (``\\u202eipa``) as its escape,
but the modal prefilled its input with the value itself, which Slack draws as "api"; a
field left as prefilled submits its argument exactly, so an approver who fixed another
field, or none, approved and ran the call on "\\u202eipa" while reading "api". Such a value
cannot be shown in an input as it is (an escape typed there would be taken literally), so
the approver is told to approve or deny it on the card, which shows it escaped.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from signoff_e2e_kit import OPS, ephemeral_texts, mention, until, wait_card, write_policy

from bot.card_governance import EDIT
from localslack import LocalSlack

if TYPE_CHECKING:
    from conftest import BotFactory

POLICY = '[default]\napprovers = ["U0BOB"]\n'
CANNOT = "cannot show these arguments"


@pytest.mark.parametrize(
    "arguments",
    [
        r'{"service": "\u202eipa"}',  # drawn "api"
        r'{"service": "api\u200b"}',  # a zero-width space
    ],
    ids=["override", "zero-width"],
)
async def test_a_value_drawn_as_something_else_is_not_prefilled_for_editing(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path, arguments: str
) -> None:
    policy = write_policy(tmp_path / "policy.toml", POLICY)
    await start_bot(policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, f"call restart_service {arguments}")
    card = await wait_card(slack, thread, timeout=30)

    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=EDIT)
    await until(
        lambda: slack.open_views(user="U0BOB") or ephemeral_texts(slack, "U0BOB"),
        what="Bob's edit modal, or what he is told instead",
    )
    assert slack.open_views(user="U0BOB") == [], slack.open_views(user="U0BOB")
    assert any(CANNOT in text for text in ephemeral_texts(slack, "U0BOB"))
