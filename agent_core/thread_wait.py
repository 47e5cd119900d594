"""Telling a person that a turn waits for its thread, which another process runs.

A thread runs one turn at a time across processes (its lock). Waiting for another's turn
is right (a bot's model and tool calls may take minutes), but a terminal that says nothing
meanwhile looks hung; whoever waits on a person's behalf asks for ``ThreadWait``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sessions import ThreadKey, ThreadLocks

__all__ = ["ThreadWait", "holding_thread"]


@dataclass(frozen=True)
class ThreadWait:
    """``tell(thread, holder pid or None)`` once, when the thread was not free within
    ``after`` seconds: told at once, a turn that lets go a moment later would be news."""

    after: float
    tell: Callable[[ThreadKey, int | None], None]


@asynccontextmanager
async def holding_thread(
    locks: ThreadLocks, thread: ThreadKey, wait: ThreadWait | None
) -> AsyncIterator[None]:
    """``locks.hold(thread)``, with ``wait`` told if it takes a while (then waited on)."""
    timer = None
    if wait is not None:
        timer = asyncio.get_running_loop().call_later(
            wait.after, lambda: wait.tell(thread, locks.holder(thread))
        )
    try:
        async with locks.hold(thread):
            if timer is not None:
                timer.cancel()
            yield
    finally:
        if timer is not None:  # cancelled while it waited (Ctrl-C, a stop)
            timer.cancel()
