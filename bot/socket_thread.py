"""The Socket Mode link's own thread and event loop.

Acks are sent from here, so an ack never waits behind the engine's turns (their fsyncs and
model calls run on the main loop).
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["SocketThread"]

T = TypeVar("T")


class SocketThread:
    """A thread with its own event loop that owns the Socket Mode handler."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="signoff-socket", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        # Inbox writes wait on fsync, which releases the GIL: with more of them in flight
        # the filesystem commits them together, so a burst is stored faster.
        self.loop.set_default_executor(
            ThreadPoolExecutor(max_workers=32, thread_name_prefix="signoff-ingest")
        )
        self.loop.run_forever()
        self.loop.close()

    def start(self) -> None:
        # The engine's turns are CPU work on the main thread; a shorter GIL switch interval
        # (default 5 ms) lets the socket thread in sooner, which halves the ack p99 under
        # load. It is process-wide, and this process is the bot.
        sys.setswitchinterval(0.0005)
        self._thread.start()

    async def call(self, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` on the socket thread's loop and wait for it from the caller's."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self.loop))

    async def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        await asyncio.to_thread(self._thread.join, 10)
