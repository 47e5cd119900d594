"""How long to wait before the next try: doubling from ``initial`` up to ``maximum``.

One rule for every retry the engine schedules (delivery to Slack, a failed thread worker,
an approved call that could not start): each once computed ``initial * 2 ** (n - 1)``,
which raises OverflowError from the 1,025th try on, about 17 hours into an outage, and
then no retry was scheduled at all.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Backoff"]


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
