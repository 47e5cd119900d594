"""The quarantine's marks (what names a kept item, so a redelivery is found kept) serve
today and yesterday only (``kept_as``), yet every day's were kept for ever: a home that
quarantined a few items a day grew a directory of marks a day, without end. Now the next
write removes the marks of the days no lookup reads any more, a bounded batch at a time;
the records themselves stay (they are kept for a person)."""

from __future__ import annotations

from datetime import timedelta

from sessions import FixedClock, Home
from sessions.quarantine import PRUNE_BATCH, Quarantine


def _mark_days(home: Home) -> list[str]:
    keys = home.quarantine_dir / "keys"
    return sorted(p.name for p in keys.iterdir()) if keys.exists() else []


def test_marks_older_than_yesterday_are_pruned_on_the_next_write(
    home: Home, clock: FixedClock
) -> None:
    quarantine = Quarantine(home, clock=clock)
    first = quarantine.put(source="events_api", reason="r", payload={}, keys=["Ev1"])
    assert first is not None
    clock.advance(timedelta(days=1))
    # Yesterday's mark is still what finds a redelivery: kept.
    assert quarantine.put(source="events_api", reason="r", payload={}, keys=["Ev2"])
    assert _mark_days(home) == ["2026-11-02", "2026-11-03"]
    assert quarantine.kept_as(["Ev1"]) == first.id

    clock.advance(timedelta(days=1))
    assert quarantine.kept_as(["Ev1"]) is None  # no lookup reads the first day now
    assert quarantine.put(source="events_api", reason="r", payload={}, keys=["Ev3"])
    assert _mark_days(home) == ["2026-11-03", "2026-11-04"]
    assert quarantine.kept_as(["Ev2"]) is not None
    # The records stay: they are for a person to read.
    assert len(list(quarantine.records())) == 3


def test_pruning_is_bounded_per_write_and_catches_up(home: Home, clock: FixedClock) -> None:
    """A home that quarantined many items long ago is pruned a batch per write (a write
    never stalls on a day of thousands of marks), and every write removes more than it
    adds, so the stale marks run out."""
    old = Quarantine(home, clock=clock)
    many = PRUNE_BATCH + PRUNE_BATCH // 2
    assert old.put(source="s", reason="r", payload={}, keys=[f"Ev{n}" for n in range(many)])
    clock.advance(timedelta(days=30))
    quarantine = Quarantine(home, clock=clock)  # a later process
    marks = home.quarantine_dir / "keys" / "2026-11-02"

    assert quarantine.put(source="s", reason="r", payload={}, keys=["New1"])
    assert len(list(marks.iterdir())) == many - PRUNE_BATCH
    assert quarantine.put(source="s", reason="r", payload={}, keys=["New2"])
    assert _mark_days(home) == ["2026-12-02"]
