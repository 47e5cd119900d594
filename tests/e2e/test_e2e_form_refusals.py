"""A form submitted by someone who may no longer decide is answered in the form.

The Deny, Approve-with-reason and Edit modals are checked again when they are submitted,
minutes after the click perhaps. Before, the submission was acked empty whatever came of
it: the modal closed as if the decision was taken, and the refusal went as an ephemeral
to the card's thread (which Slack refuses, ``user_not_in_channel``, for someone who left
a private channel). Now the form stays open and says why, in the words a click gets.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from signoff_e2e_kit import (
    OPS,
    asked_under,
    decision,
    existing_decision,
    form_says,
    until,
    write_policy,
)

from bot.card_governance import EDIT
from bot.cards import APPROVE, DENY
from bot.config import Settings
from bot.edit_modal import EDIT_MODAL
from bot.reason_modal import APPROVE_MODAL, DENY_MODAL
from localslack import LocalSlack

if TYPE_CHECKING:
    from conftest import BotFactory

POLICY = (
    '[tools.restart_service]\napprovers = ["U0BOB", "U0CAROL"]\n'
    "require_reason = true\nallow_edit = true\n"
)
REASON: dict[str, dict[str, object]] = {"reason": {"reason": "api is wedged"}}


@pytest.mark.parametrize(
    ("action", "callback", "values", "said"),
    [
        (APPROVE, APPROVE_MODAL, REASON, "Already decided: denied by <@U0CAROL>"),
        (DENY, DENY_MODAL, REASON, "Already decided: denied by <@U0CAROL>"),
        (
            EDIT,
            EDIT_MODAL,
            {"arg:service": {"value": "web"}, **REASON},
            "You may not edit this request: it was already decided: denied",
        ),
    ],
)
async def test_a_form_submitted_after_the_decision_says_so_in_the_form(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    tmp_path: Path,
    action: str,
    callback: str,
    values: dict[str, dict[str, object]],
    said: str,
) -> None:
    policy = write_policy(tmp_path / "policy.toml", POLICY)
    bot, _thread, card, approval = await asked_under(slack, start_bot, policy, "restart api")
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=action)
    await until(lambda: slack.open_views(user="U0BOB"), what="Bob's form")

    # Carol denies while Bob's form is open.
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0CAROL", action_id=DENY)
    await until(lambda: slack.open_views(user="U0CAROL"), what="Carol's form")
    await slack.submit_view(user="U0CAROL", callback_id=DENY_MODAL, values=REASON)
    await until(lambda: decision(settings.home, approval), what="Carol's denial")

    await slack.submit_view(user="U0BOB", callback_id=callback, values=values)

    view = await form_says(slack, "U0BOB", said)
    assert view.get("callback_id") in (None, "")  # a notice: submitting it decides nothing
    await bot.engine.idle()
    assert existing_decision(settings.home, approval)["deciders"] == ["U0CAROL"]
