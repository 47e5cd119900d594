"""A form submitted while Slack is slow to say who may decide, through the wire.

A Deny-reason, Approve-reason or Edit submission is checked before its ack (who can see a
private channel's card: ``conversations.members``; who is in an approver group:
``usergroups.users.list``), and Slack allows a view_submission 3 s for that ack. Before, a
lookup that took longer (a 429 with Retry-After, a call that hangs) acked late: Slack
showed the person an error over a form still open, while the decision was recorded anyway
(or, a lookup that never answered, refused with words no one saw). Now the check gets
well under 3 s: past that the form says the decision is still being checked, and the
outcome is told as before this check moved ahead of the ack (the card, or the thread).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from signoff_e2e_kit import (
    CARD_TITLE,
    approval_id_of,
    as_in_manifest,
    decision,
    ephemeral,
    ephemeral_texts,
    form_says,
    until,
    write_policy,
)

from bot.cards import APPROVE, DENY
from bot.config import Settings
from bot.reason_modal import APPROVE_MODAL, DENY_MODAL
from localslack import LocalSlack, Timing, WorkspaceConfig

if TYPE_CHECKING:
    from conftest import BotFactory

PRIVATE = "C0PRIVATE"
POLICY = '[tools.restart_service]\napprovers = ["U0BOB"]\nrequire_reason = true\n'
REASON: dict[str, dict[str, object]] = {"reason": {"reason": "api is wedged"}}
STILL = "still being checked"


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    # Slack's own 3 s for an ack.
    timing = Timing(ack_timeout=3.0, server_ping_interval=None)
    async with LocalSlack(as_in_manifest(WorkspaceConfig(seed=11, timing=timing))) as server:
        yield server


async def form_open_on_private_card(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path, action: str, **bot: object
) -> str:
    """Bob's form open on a card in a private channel he is in: the card's approval id."""
    await start_bot(policy_path=write_policy(tmp_path / "policy.toml", POLICY), **bot)
    await slack.wait_for_sockets(1, timeout=5)
    await slack.join_channel(channel=PRIVATE, user="U0BOB")
    asked = await slack.post_message(
        channel=PRIVATE, user="U0ALICE", text="<@U0SIGNOFF> restart api please"
    )
    card = await slack.wait_for_message(
        channel=PRIVATE, thread_ts=asked, from_bot=True, text_contains=CARD_TITLE, timeout=10
    )
    await slack.click_button(channel=PRIVATE, ts=card["ts"], user="U0BOB", action_id=action)
    await until(lambda: slack.open_views(user="U0BOB"), what="Bob's form")
    return approval_id_of(card)


@pytest.mark.parametrize(
    ("action", "callback", "verdict"),
    [(APPROVE, APPROVE_MODAL, "approved"), (DENY, DENY_MODAL, "denied")],
)
async def test_a_form_whose_channel_check_is_rate_limited_is_acked_in_time_and_decides(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    tmp_path: Path,
    action: str,
    callback: str,
    verdict: str,
) -> None:
    approval = await form_open_on_private_card(slack, start_bot, tmp_path, action)
    # Slack answers who is in the channel, after a 429 asking to come back in 4 s.
    slowed = slack.inject_fault(method="conversations.members", status=429, retry_after=4)
    sent = await slack.submit_view(user="U0BOB", callback_id=callback, values=REASON)

    delivery = await slack.wait_for_ack(sent.envelope_id, timeout=10)
    assert not delivery.user_saw_error and not delivery.late_ack
    await form_says(slack, "U0BOB", STILL)
    found = await until(lambda: decision(settings.home, approval), timeout=15, what="decision")
    assert slowed.fired == 1
    assert found["verdict"] == verdict and found["deciders"] == ["U0BOB"]


async def test_a_form_whose_channel_check_hangs_is_acked_in_time_and_told_after(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    approval = await form_open_on_private_card(
        slack, start_bot, tmp_path, APPROVE, slack_timeout_s=2
    )
    slack.inject_fault(method="conversations.members", hang=True, count=None)
    sent = await slack.submit_view(user="U0BOB", callback_id=APPROVE_MODAL, values=REASON)

    delivery = await slack.wait_for_ack(sent.envelope_id, timeout=10)
    assert not delivery.user_saw_error and not delivery.late_ack
    await form_says(slack, "U0BOB", STILL)
    # Nothing decided, and Bob is told why once the lookup gave up (Bob is still in it).
    await ephemeral(slack, "U0BOB", "signoff could not check with Slack", timeout=30)
    assert decision(settings.home, approval) is None


async def test_the_same_form_submitted_twice_while_it_is_checked_decides_once(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    # Bob submits, and submits again before the first is answered (the form stays open
    # until its ack, the check waiting out a 429): one decision, one note for the other.
    approval = await form_open_on_private_card(slack, start_bot, tmp_path, APPROVE)
    slack.inject_fault(method="conversations.members", status=429, retry_after=4, count=2)
    sent = [
        await slack.submit_view(user="U0BOB", callback_id=APPROVE_MODAL, values=REASON)
        for _ in range(2)
    ]

    for one in sent:
        delivery = await slack.wait_for_ack(one.envelope_id, timeout=10)
        assert not delivery.user_saw_error and not delivery.late_ack
    found = await until(lambda: decision(settings.home, approval), timeout=15, what="decision")
    assert found["verdict"] == "approved" and found["deciders"] == ["U0BOB"]
    # The other is told that nothing more was recorded, once, in an ephemeral note (it was
    # acked with "still being checked"): as a request decided already when its check ends
    # after the first recorded the decision, as a form used up when both checks ended first.
    said = ("Already decided: approved by <@U0BOB>", "This form was submitted already")
    told = await until(
        lambda: [t for t in ephemeral_texts(slack, "U0BOB") if t.startswith(said)],
        what="Bob told of the second submission",
    )
    assert len(told) == 1, told
