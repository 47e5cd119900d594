"""Seeded trouble on the Socket Mode side, for chaos tests that must count what happened.

* Duplicate deliveries: every new ``events_api`` envelope goes out ``k`` times, ``k`` drawn
  from 1..``max_copies`` (each copy a new envelope with the same ``event_id`` and
  ``retry_attempt`` 0), on top of Slack's redelivery of unacked envelopes.
* Dropped sockets: before or right after an envelope is sent, with a given probability, the
  socket it was meant for loses its TCP connection (no close frame); and/or at random
  moments, every ``interval`` (a (low, high) range of seconds), all sockets do.

Each behaviour draws from its own ``random.Random(seed)``, so a seed replays the same
decisions for the same traffic and the workspace's own randomness is untouched. Every
duplicate and drop is a :class:`ChaosEvent` in :attr:`Chaos.events`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from localslack.ids import Clock
from localslack.records import JSON

__all__ = ["Chaos", "ChaosEvent", "DropPoint"]

DropPoint = Literal["before_send", "after_send"]


@dataclass(frozen=True)
class ChaosEvent:
    kind: Literal["duplicate", "drop"]
    at: float
    # duplicate: event_id, envelope_ids (original first), copies; drop: trigger, socket_ids,
    # envelope_id (None for timer drops).
    detail: JSON = field(default_factory=dict)

    def to_dict(self) -> JSON:
        return {"kind": self.kind, "at": self.at, **self.detail}


class Chaos:
    def __init__(self, *, clock: Clock) -> None:
        self._clock = clock
        self._duplicates: random.Random | None = None
        self.max_copies = 3
        self._drops: random.Random | None = None
        self.drop_probability = 0.0
        self._timer: asyncio.Task[None] | None = None
        self.events: list[ChaosEvent] = []
        # Set by the socket hub: drop one socket (or all with None), return the ids dropped.
        self.drop: Callable[[str | None], list[str]] = lambda socket_id: []

    # -- duplicates -----------------------------------------------------------------------

    def duplicate_events(self, *, seed: int, max_copies: int = 3) -> None:
        if max_copies < 1:
            raise ValueError("max_copies must be at least 1")
        self._duplicates = random.Random(seed)
        self.max_copies = max_copies

    def stop_duplicates(self) -> None:
        self._duplicates = None

    def copies(self) -> int:
        """How many times the next new events_api envelope goes out (1 when off)."""
        if self._duplicates is None:
            return 1
        return self._duplicates.randint(1, self.max_copies)

    def duplicated(self, *, event_id: str | None, envelope_ids: list[str]) -> None:
        self._record(
            "duplicate",
            {"event_id": event_id, "envelope_ids": envelope_ids, "copies": len(envelope_ids)},
        )

    # -- dropped sockets ------------------------------------------------------------------

    def drop_sockets(
        self,
        *,
        seed: int,
        probability: float = 0.0,
        interval: tuple[float, float] | None = None,
    ) -> None:
        if not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        if interval is not None and not 0 < interval[0] <= interval[1]:
            raise ValueError("interval must be (low, high) with 0 < low <= high")
        self.stop_drops()
        rng = random.Random(seed)
        self._drops = rng
        self.drop_probability = probability
        if interval is not None:
            self._timer = asyncio.ensure_future(self._drop_now_and_then(rng, interval))

    def stop_drops(self) -> None:
        self._drops = None
        self.drop_probability = 0.0
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def drop_point(self) -> DropPoint | None:
        """Whether to drop the socket for the envelope about to be sent, and when."""
        rng = self._drops
        if rng is None or self.drop_probability <= 0 or rng.random() >= self.drop_probability:
            return None
        return "before_send" if rng.random() < 0.5 else "after_send"

    def dropped(self, *, trigger: str, socket_ids: list[str], envelope_id: str | None) -> None:
        self._record(
            "drop", {"trigger": trigger, "socket_ids": socket_ids, "envelope_id": envelope_id}
        )

    async def _drop_now_and_then(self, rng: random.Random, interval: tuple[float, float]) -> None:
        while True:
            await asyncio.sleep(rng.uniform(*interval))
            ids = self.drop(None)
            if ids:
                self.dropped(trigger="timer", socket_ids=ids, envelope_id=None)

    # -- log ------------------------------------------------------------------------------

    def _record(self, kind: Literal["duplicate", "drop"], detail: JSON) -> None:
        self.events.append(ChaosEvent(kind=kind, at=self._clock(), detail=detail))

    async def close(self) -> None:
        timer = self._timer
        self.stop_drops()
        if timer is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await timer
