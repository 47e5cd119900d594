"""Time as a dependency: the engine never calls ``datetime.now`` directly.

Tests pass a ``FixedClock`` (or use freezegun with ``SystemClock``) to make "two days
later" a one-line statement instead of a sleep.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "FixedClock", "SystemClock", "utc_iso"]


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that only moves when told to."""

    current: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def from_utc_iso(stamp: str) -> datetime:
    """The moment one of signoff's timestamps (``utc_iso``) names."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def readable_utc(stamp: str) -> str:
    """One of signoff's timestamps (``utc_iso``) as people read it: ``2026-11-02 09:00 UTC``
    (in text that cannot carry Slack's date formatting, such as a thread reply)."""
    return readable(from_utc_iso(stamp))


def readable(moment: datetime) -> str:
    """``moment`` as ``2026-11-02 09:00 UTC``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
