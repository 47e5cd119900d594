"""Ingest: a message is durable in its thread's inbox before Slack is acked, then woken.

The thread's work-queue marker is made before the message is linked into the inbox, so
start-up recovery and the sweep always find it, even if Slack never delivers it again.
The bot acks on a socket thread, so ingest may be called from another event loop: the
wake-up is handed to the engine's loop.

A mixin of ``Engine``, like ``Queries``: the bot still talks to one object.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from sessions import InboxMessage, ThreadDir, ThreadKey, failpoint, off_loop

from .runtime import Runtime

__all__ = ["Ingest"]


class Ingest:
    rt: Runtime
    _loop: asyncio.AbstractEventLoop

    if TYPE_CHECKING:
        # ThreadWorkers'; declared for the type checker only, so it never shadows it.
        def wake(self, thread: ThreadKey) -> None: ...

    async def ingest(self, message: InboxMessage) -> bool:
        """Store a message durably; True if new. Only after this returns may Slack be acked."""
        # fsync blocks; in a thread, a burst of envelopes overlaps its disk waits.
        fresh, waiting = await off_loop(self._store, message)
        if waiting:
            self._wake_from_anywhere(message.thread)
        return fresh

    def knows_thread(self, thread: ThreadKey) -> bool:
        """Has signoff taken part in this thread (so follow-ups need no mention)?"""
        tdir = ThreadDir(self.rt.home, thread)
        # A message taken there made its inbox (a session, HEAD); the directory alone may
        # hold only the log of an ephemeral (a refused click), which nobody else saw.
        return tdir.inbox.root.exists() or (tdir.path / "HEAD").exists()

    def _wake_from_anywhere(self, thread: ThreadKey) -> None:
        try:
            here = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        if here is self._loop:
            self.wake(thread)
        else:
            self._loop.call_soon_threadsafe(self.wake, thread)

    def _store(self, message: InboxMessage) -> tuple[bool, bool]:
        tdir = ThreadDir(self.rt.home, message.thread)  # deliver makes its directories
        # The thread's marker first: a message in inbox/new is then always found by
        # start-up recovery and the sweep, even if Slack never delivers it again (a marker
        # with nothing behind it costs the worker one look, then it is cleared).
        self.rt.coordination.work_queue.mark(message.thread)
        fresh = tdir.inbox.deliver(message)
        failpoint("ingest.after_link")
        waiting = fresh or tdir.inbox.waiting(message.key)
        return fresh, waiting
