"""A modal submitted before the bot heard Slack's answer to its ``views.open`` counts.

Slack shows the modal as it takes ``views.open``; the bot learned the view's id only from
the answer, and recorded the form then. A submission that came first (a slow or lost
answer; a quick person, or a test) named no form and was dropped: the person's reason was
lost, and when the call failed the click was taken as a deny without one. signoff now
names the form itself (the view's ``external_id``) and records it before asking Slack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from signoff_e2e_kit import (
    OPS,
    approval_id_of,
    bot_reply,
    existing_decision,
    mention,
    until,
    wait_card,
)

from bot.cards import DENY
from bot.config import Settings
from bot.reason_modal import DENY_MODAL
from localslack import LocalSlack

if TYPE_CHECKING:
    from bot.app import SignoffBot


async def test_a_reason_submitted_before_views_open_answered_is_recorded(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    # The modal opens on Slack's side; its answer to the bot never comes.
    slack.inject_fault(method="views.open", after_commit=True, hang=True)
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=DENY)
    await until(lambda: slack.open_views(user="U0BOB"), what="Bob's modal")
    await slack.submit_view(
        user="U0BOB", values={"reason": {"reason": "freeze until Monday"}}, callback_id=DENY_MODAL
    )
    reply = await bot_reply(slack, thread, "freeze until Monday")
    assert "did not run `restart_service`" in reply["text"]
    recorded = existing_decision(settings.home, approval)
    assert recorded["verdict"] == "denied" and recorded["reason"] == "freeze until Monday"
