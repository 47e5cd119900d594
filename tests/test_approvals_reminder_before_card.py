"""A reminder that falls due before the card is posted (Slack was slow or out while the
card waited in the outbox) must still reach the card's thread once the card is in another
channel (a request asked in a direct message, whose card went to the approvals channel)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from engine_support import THREAD
from governance_support import park, posts, request, sweep

from approvals import (
    Capsule,
    Escalated,
    PolicyRule,
    Reminded,
    Reminder,
    Timers,
)
from sessions import FixedClock, Home, Outbox, OutboxDone, OutboxEntry, utc_iso

CARDS = "C0APPROVALS"  # where a direct message's requests are decided
CARD_TS = "1700000100.000100"
REMIND = PolicyRule(
    approver_users=("U0BOB",),
    remind_after_seconds=2 * 3600,
    max_reminders=2,
    expires_after_seconds=24 * 3600,
)
ESCALATE = REMIND.model_copy(
    update={"escalate_after_seconds": 3 * 3600, "escalate_users": ("U0CAROL",)}
)


def _post_card(home: Home, capsule: Capsule, clock: FixedClock) -> None:
    """What delivery does once Slack took the card: record where it is."""
    request(home, capsule, clock).record_card(channel=CARDS, ts=CARD_TS)


def _replies(home: Home) -> list[OutboxEntry]:
    return [e for e in Outbox(home).pending() if e.kind == "reply"]


def _in_cards_thread(entry: OutboxEntry) -> bool:
    return (entry.thread.channel, entry.thread.thread_ts) == (CARDS, CARD_TS)


def test_a_reminder_due_before_the_card_was_posted_goes_to_the_cards_thread(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock, REMIND, card_channel=CARDS)
    clock.advance(timedelta(hours=2, minutes=1))  # reminder 1 due; the card not yet posted
    asyncio.run(sweep(home, clock))
    assert THREAD.channel != CARDS
    assert posts(home) == {}  # nothing for the approvers lands in the direct message
    assert Timers(home).armed(capsule.id)  # looked at again on the next pass
    _post_card(home, capsule, clock)
    steps = asyncio.run(sweep(home, clock))
    assert [s.reminder.n for s in steps if isinstance(s, Reminded)] == [1]
    (reminder,) = [e for e in Outbox(home).pending() if e.id == f"remind-1-{capsule.id}"]
    # The approvers are not in the asking thread; "the card above" is not there either.
    assert reminder.thread.channel == CARDS
    assert reminder.thread.thread_ts == CARD_TS
    asyncio.run(sweep(home, clock))  # queues its posts again: a no-op
    assert [e.id for e in _replies(home)] == [f"remind-1-{capsule.id}"]


def test_reminders_that_fell_due_while_the_card_waited_are_one_post(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock, REMIND, card_channel=CARDS)
    clock.advance(timedelta(hours=2, minutes=1))
    asyncio.run(sweep(home, clock))
    clock.advance(timedelta(hours=2))  # reminder 2 due too, the card still not posted
    asyncio.run(sweep(home, clock))
    _post_card(home, capsule, clock)
    asyncio.run(sweep(home, clock))
    (entry,) = _replies(home)
    assert entry.id == f"remind-2-{capsule.id}" and _in_cards_thread(entry)
    assert "Reminder 2 of 2" in entry.text and "waited 4h" in entry.text
    # The last reminder is out: its marker goes, and nothing more is queued.
    assert Timers(home).armed(capsule.id) == []


def test_the_last_reminder_waits_for_the_card_across_a_restart_and_goes_once(
    home: Home, clock: FixedClock
) -> None:
    """No reminder after it to re-arm a marker: the due one's own marker must stay."""
    capsule = park(home, clock, REMIND.model_copy(update={"max_reminders": 1}), card_channel=CARDS)
    clock.advance(timedelta(hours=2, minutes=1))
    asyncio.run(sweep(home, clock))
    asyncio.run(sweep(home, clock))  # another pass, the card still not posted: nothing yet
    assert posts(home) == {} and Timers(home).armed(capsule.id)
    # A restart: the state is all on disk, so a new sweep sees what the old one left.
    clock.advance(timedelta(minutes=30))
    _post_card(home, capsule, clock)
    asyncio.run(sweep(home, clock))
    (entry,) = _replies(home)
    assert entry.id == f"remind-1-{capsule.id}" and _in_cards_thread(entry)
    outbox = Outbox(home)
    outbox.complete([OutboxDone(id=entry.id, entry=entry, at=entry.created_at, outcome="sent")])
    Timers(home).arm(capsule.id, utc_iso(clock.now()))  # a marker taken again after a crash
    asyncio.run(sweep(home, clock))
    assert _replies(home) == []  # sent once: never again
    assert Timers(home).armed(capsule.id) == []


def test_an_escalation_due_before_the_card_counts_at_once_and_is_posted_by_the_card(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock, ESCALATE, card_channel=CARDS)
    clock.advance(timedelta(hours=3, minutes=1))  # escalation (and reminder 1) due
    steps = asyncio.run(sweep(home, clock))
    # Who may decide changes when the policy says, card or not (the App Home lists it).
    assert [type(s) for s in steps] == [Escalated]
    assert request(home, capsule, clock).escalated_approvers() == ("U0CAROL",)
    assert posts(home) == {}
    assert Timers(home).armed(capsule.id)
    asyncio.run(sweep(home, clock))  # the next pass: still no card, still nothing queued
    assert posts(home) == {}
    _post_card(home, capsule, clock)
    asyncio.run(sweep(home, clock))
    replies = _replies(home)
    assert [e.id for e in replies] == [f"escalate-{capsule.id}", f"remind-1-{capsule.id}"]
    assert all(_in_cards_thread(e) for e in replies)
    assert "<@U0CAROL>" in replies[0].text


def test_a_reminder_recorded_before_the_card_is_held_until_the_card_is_posted(
    home: Home, clock: FixedClock
) -> None:
    """A reminder on record with no card yet (written by a release before this check):
    its post is not queued in the direct message, and its marker keeps it in sight."""
    capsule = park(home, clock, REMIND.model_copy(update={"max_reminders": 1}), card_channel=CARDS)
    clock.advance(timedelta(hours=2))
    at = utc_iso(clock.now())
    request(home, capsule, clock).write_reminder(
        Reminder(approval_id=capsule.id, n=1, due_at=at, at=at, pinged=("U0BOB",))
    )
    asyncio.run(sweep(home, clock))
    assert posts(home) == {}
    assert Timers(home).armed(capsule.id)
    _post_card(home, capsule, clock)
    asyncio.run(sweep(home, clock))
    (entry,) = _replies(home)
    assert entry.id == f"remind-1-{capsule.id}" and _in_cards_thread(entry)
    assert Timers(home).armed(capsule.id) == []
