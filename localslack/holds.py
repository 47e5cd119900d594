"""Held Web API calls: "the next N calls of method X wait, before they run, until released".

A held call has reached Slack (its arguments are what the client sent) but takes effect
only on :meth:`HeldCalls.release`, then runs and answers as usual: a request slow on the
way, which lets a test put calls in the order two paths of an app could send them in, one
overtaking the other, without sleeps. A server that stops lets every held call go.
"""

from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CallHolds", "HeldCalls"]


@dataclass
class HeldCalls:
    method: str
    remaining: int
    # Only calls about this channel (their `channel` or `channel_id` argument); None: any.
    channel: str | None = None
    # The arguments of each call held so far, as the client sent them.
    held: list[dict[str, Any]] = field(default_factory=list)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _go: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_held(
        self,
        count: int = 1,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a bounded wait is the point of this API
    ) -> None:
        """Until ``count`` calls are held (or were, and released since)."""
        async with asyncio.timeout(timeout):
            while len(self.held) < count:
                self._arrived.clear()
                await self._arrived.wait()

    def release(self) -> None:
        """The held calls run now, and the later ones are not held any more."""
        self.remaining = 0
        self._go.set()

    async def hold_one(self, args: dict[str, Any]) -> None:
        """One call waits here until :meth:`release`."""
        self.held.append(copy.deepcopy(args))
        self._arrived.set()
        await self._go.wait()


class CallHolds:
    def __init__(self) -> None:
        self._holds: list[HeldCalls] = []

    def add(self, *, method: str, count: int = 1, channel: str | None = None) -> HeldCalls:
        if count < 1:
            raise ValueError("count must be at least 1")
        hold = HeldCalls(method=method, remaining=count, channel=channel)
        self._holds.append(hold)
        return hold

    async def pass_through(self, method: str, args: dict[str, Any], *, channel: str | None) -> None:
        """Where a call waits while a hold takes it."""
        for hold in self._holds:
            if hold.method == method and hold.remaining > 0 and hold.channel in (None, channel):
                hold.remaining -= 1
                await hold.hold_one(args)
                return

    def release_all(self) -> None:
        for hold in self._holds:
            hold.release()
        self._holds.clear()
