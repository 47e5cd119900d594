"""Background calls in order per thread: each starts once the thread's one before it ended.

A thread's status line and agent session are set by calls that may be slow (a 429 waited
out, a hung socket): run in the background so no turn waits for them, and in order so the
last one asked is the last one shown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sessions import ThreadKey

__all__ = ["Lanes"]

Spawn = Callable[[Awaitable[Any]], "asyncio.Task[Any]"]


class Lanes:
    def __init__(self, spawn: Spawn) -> None:
        self._spawn = spawn
        self._last: dict[ThreadKey, asyncio.Task[Any]] = {}  # each thread's newest call

    def add(self, thread: ThreadKey, work: Callable[[], Awaitable[None]]) -> None:
        before = self._last.get(thread)

        async def run() -> None:
            if before is not None:
                await asyncio.wait([before])
            await work()

        task = self._spawn(run())
        self._last[thread] = task

        def done(finished: asyncio.Task[Any]) -> None:
            if self._last.get(thread) is finished:
                del self._last[thread]

        task.add_done_callback(done)

    def newer_waits(self, thread: ThreadKey) -> bool:
        """Does a call of ``thread`` wait behind the one running now (the caller's)?"""
        return self._last.get(thread) not in (None, asyncio.current_task())

    def threads(self) -> set[ThreadKey]:
        """Threads with a call still on its way."""
        return set(self._last)

    async def settle(self) -> None:
        """Wait until every thread's calls (and those they queue) have ended."""
        while self._last:
            await asyncio.wait(list(self._last.values()))
