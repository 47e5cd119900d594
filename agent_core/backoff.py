"""How long to wait before the next try: doubling from ``initial`` up to ``maximum``, or
what a server asked for (``parse_retry_after``).

One rule for every retry the engine schedules (delivery to Slack, a failed thread worker,
an approved call that could not start): each once computed ``initial * 2 ** (n - 1)``,
which raises OverflowError from the 1,025th try on, about 17 hours into an outage, and
then no retry was scheduled at all.
"""

from __future__ import annotations

import datetime
import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Backoff", "parse_retry_after"]


@dataclass(frozen=True)
class Backoff:
    initial: float = 0.5
    maximum: float = 60.0
    factor: float = 2.0

    def delay(self, attempt: int) -> float:
        """The wait before try ``attempt`` + 1 (``attempt`` counts from 1)."""
        try:
            grown = self.initial * self.factor ** max(0, attempt - 1)
        except OverflowError:  # 2.0 ** 1024
            grown = self.maximum
        return float(min(self.maximum, grown))

    def scaled(self, by: float) -> Backoff:
        """Every wait ``by`` times as long (tests wait a tenth of them, as often)."""
        return Backoff(initial=self.initial * by, maximum=self.maximum * by, factor=self.factor)


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asks us to wait: ``retry-after-ms``, then ``retry-after``
    (seconds or an HTTP date). ``None`` when absent or unreadable."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            ms = float(raw_ms)
        except ValueError:
            ms = -1.0
        if ms >= 0:
            return ms / 1000.0
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:  # asctime's form names no zone: HTTP dates are GMT
            when = when.replace(tzinfo=datetime.UTC)
        seconds = when.timestamp() - time.time()
    return max(0.0, seconds)
