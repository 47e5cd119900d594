"""A reminder that falls due before the card is posted (Slack was slow or out while the
card waited in the outbox) must still reach the card's thread once the card is in another
channel (a request asked in a direct message, whose card went to the approvals channel)."""

from __future__ import annotations

from datetime import timedelta

from engine_support import THREAD
from governance_support import park, request

from approvals import Policy, PolicyRule, sweep_timers
from sessions import FixedClock, Home, Outbox

REMIND = PolicyRule(
    approver_users=("U0BOB",),
    remind_after_seconds=2 * 3600,
    max_reminders=2,
    expires_after_seconds=24 * 3600,
)


def test_a_reminder_due_before_the_card_was_posted_goes_to_the_cards_thread(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock, REMIND)
    clock.advance(timedelta(hours=2, minutes=1))  # reminder 1 due; the card not yet posted
    list(sweep_timers(home, policy=Policy(), clock=clock))
    card_channel = "C0APPROVALS"
    assert THREAD.channel != card_channel
    request(home, capsule, clock).record_card(channel=card_channel, ts="1700000100.000100")
    list(sweep_timers(home, policy=Policy(), clock=clock))  # queues its posts again: no-op
    (reminder,) = [e for e in Outbox(home).pending() if e.id == f"remind-1-{capsule.id}"]
    # The approvers are not in the asking thread; "the card above" is not there either.
    assert reminder.thread.channel == card_channel
    assert reminder.thread.thread_ts == "1700000100.000100"
