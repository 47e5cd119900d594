"""A form opened on a private channel's card decides nothing once its person left it.

A click on a card asks Slack afresh whether the clicker can see its channel; a decision
made through a form (a reason the policy wants, an edit, a denial's reason) is made when
the form is submitted, minutes later perhaps. Before, only the click was checked: Bob,
removed from #incident-private with his approve form open, approved a request asked
there when he submitted it (and his open edit form would have approved an edit). Then he
was told so by an ephemeral in the channel he had left, which Slack refuses
(``user_not_in_channel``), while his form closed as if it had worked: now it says so.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import FAST
from signoff_e2e_kit import (
    CARD_TITLE,
    approval_id_of,
    as_in_manifest,
    decision,
    form_says,
    until,
    write_policy,
)

from bot.card_governance import EDIT
from bot.cards import APPROVE, DENY
from bot.config import Settings
from bot.edit_modal import EDIT_MODAL
from bot.reason_modal import APPROVE_MODAL, DENY_MODAL
from localslack import LocalSlack, WorkspaceConfig

if TYPE_CHECKING:
    from conftest import BotFactory

PRIVATE = "C0PRIVATE"
POLICY = '[tools.restart_service]\napprovers = ["U0BOB"]\nrequire_reason = true\n'
NOT_IN = "you are not in the conversation its card is in"
REASON = {"reason": {"reason": "api is wedged"}}


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    async with LocalSlack(as_in_manifest(WorkspaceConfig(seed=11, timing=FAST))) as server:
        yield server


@pytest.mark.parametrize(
    ("action", "callback", "values"),
    [
        (APPROVE, APPROVE_MODAL, REASON),
        (EDIT, EDIT_MODAL, {"arg:service": {"value": "web"}, **REASON}),
        (DENY, DENY_MODAL, REASON),
    ],
)
async def test_a_form_submitted_after_leaving_the_channel_decides_nothing(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    tmp_path: Path,
    action: str,
    callback: str,
    values: dict[str, dict[str, object]],
) -> None:
    bot = await start_bot(policy_path=write_policy(tmp_path / "policy.toml", POLICY))
    await slack.wait_for_sockets(1, timeout=5)
    await slack.join_channel(channel=PRIVATE, user="U0BOB")
    asked = await slack.post_message(
        channel=PRIVATE, user="U0ALICE", text="<@U0SIGNOFF> restart api please"
    )
    card = await slack.wait_for_message(
        channel=PRIVATE, thread_ts=asked, from_bot=True, text_contains=CARD_TITLE, timeout=10
    )
    approval = approval_id_of(card)
    await slack.click_button(channel=PRIVATE, ts=card["ts"], user="U0BOB", action_id=action)
    await until(lambda: slack.open_views(user="U0BOB"), what="Bob's form")

    await slack.leave_channel(channel=PRIVATE, user="U0BOB")
    await slack.submit_view(user="U0BOB", callback_id=callback, values=values)

    # Said in his form: an ephemeral in the channel he left is refused by Slack
    # (user_not_in_channel), and the form closing would read as a decision taken.
    await form_says(slack, "U0BOB", NOT_IN)
    await bot.engine.idle()
    assert decision(settings.home, approval) is None
