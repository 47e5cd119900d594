"""Scripted Web API failures: "the next N calls of method X fail like this"."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["Fault", "FaultInjector"]


@dataclass
class Fault:
    method: str
    error: str
    status: int
    retry_after: int | None
    remaining: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class FaultInjector:
    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(
        self,
        *,
        method: str,
        error: str | None = None,
        count: int = 1,
        status: int = 200,
        retry_after: int | None = None,
    ) -> Fault:
        """`method="*"` matches every method. A 429 defaults to error `ratelimited` and
        Retry-After 1, because that is the only shape Slack's clients know how to retry."""
        if status == 429:
            error = error or "ratelimited"
            retry_after = 1 if retry_after is None else retry_after
        fault = Fault(
            method=method,
            error=error or "internal_error",
            status=status,
            retry_after=retry_after,
            remaining=count,
        )
        self._faults.append(fault)
        return fault

    def take(self, method: str) -> Fault | None:
        for fault in self._faults:
            if fault.remaining > 0 and fault.method in (method, "*"):
                fault.remaining -= 1
                return fault
        return None

    def clear(self) -> None:
        self._faults.clear()

    def pending(self) -> list[Fault]:
        return [f for f in self._faults if f.remaining > 0]
