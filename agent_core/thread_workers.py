"""The engine's thread workers: at most one task per thread in this process.

Ingest, a decision, a stop, the sweep and recovery wake a thread. A wake-up while its task
runs is remembered, not started twice: the task asks the thread once more before it ends.
A worker that fails is retried after a pause that doubles up to a minute (the disk still
says what is left to do). ``process_thread`` takes the thread's lock, so processes take
turns too; a finished task leaves no trace here, so a parked thread costs nothing.
Closing starts no worker and cuts the running ones after a deadline: whatever woke a
thread then (a late message, a click, a retry timer) is on disk for the next process.

A mixin of ``Engine``, like ``Queries``: ``Engine.__init__`` sets the state it works on.
"""

from __future__ import annotations

import asyncio
import collections
import errno
import logging
import sqlite3

from sessions import ThreadKey

from .backoff import Backoff
from .delivery import Delivery
from .runtime import Runtime
from .worker import mark_interrupted, process_thread

__all__ = ["WORKER_RETRY", "ThreadWorkers"]

log = logging.getLogger("signoff.engine")
# What the home's disk says while it cannot take a write: full, over quota, read-only.
_HOME_REFUSED = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})

WORKER_RETRY = Backoff(initial=0.25, maximum=60.0)


class ThreadWorkers:
    rt: Runtime
    delivery: Delivery | None
    errors: collections.deque[BaseException]
    _loop: asyncio.AbstractEventLoop
    _tasks: dict[ThreadKey, asyncio.Task[None]]
    _again: set[ThreadKey]
    _failures: dict[ThreadKey, int]
    _unfinished: dict[ThreadKey, BaseException]
    _closing: bool
    _cut: set[ThreadKey]  # threads whose turn a stop cancelled: marked once workers stop
    # False in a command that ends after its work (``signoff say``): a retry scheduled
    # there would never run, so a failed pass is left to its caller to report instead.
    retry_failed: bool

    def wake(self, thread: ThreadKey) -> None:
        if self._closing:
            return  # the work stays on disk: the next process's recovery wakes the thread
        task = self._tasks.get(thread)
        if task is not None and not task.done():
            self._again.add(thread)
            return
        self._tasks[thread] = asyncio.get_running_loop().create_task(self._work(thread))

    async def _work(self, thread: ThreadKey) -> None:
        try:
            while True:
                self._again.discard(thread)
                try:
                    await process_thread(self.rt, thread)
                    self._failures.pop(thread, None)
                    self._unfinished.pop(thread, None)
                except asyncio.CancelledError:
                    # Only a stop cancels a worker (the drain's wait, or ``stop_workers``).
                    self._cut.add(thread)
                    raise
                except Exception as exc:
                    self.errors.append(exc)
                    self._unfinished[thread] = exc
                    if not self.retry_failed:
                        log.debug("worker for %s failed", thread.label(), exc_info=exc)
                        return
                    # The disk still says what is left to do: try again after a pause (and
                    # the sweep re-wakes every thread with queued work, should this die).
                    failures = self._failures[thread] = self._failures.get(thread, 0) + 1
                    delay = WORKER_RETRY.delay(failures)
                    if isinstance(exc, sqlite3.OperationalError):  # the index busy or locked
                        log.warning(
                            "worker for %s stopped on the index (%s); retrying in %.1fs",
                            thread.label(), exc, delay,
                        )  # fmt: skip
                    elif isinstance(exc, OSError) and exc.errno in _HOME_REFUSED:
                        # A full or read-only disk is said, not a traceback each try: the
                        # same one, every few seconds, for as long as the disk stays so.
                        log.warning(
                            "worker for %s could not write to the home (%s); retrying in %.1fs",
                            thread.label(), exc, delay,
                        )  # fmt: skip
                    else:
                        log.exception(
                            "worker for %s failed; retrying in %.1fs", thread.label(), delay
                        )
                    self._loop.call_later(delay, self.wake, thread)
                    return
                if thread not in self._again:
                    return
        finally:
            # Parked threads cost nothing in memory: a finished worker leaves no trace here.
            if self._tasks.get(thread) is asyncio.current_task():
                del self._tasks[thread]
            if self.delivery is not None:
                self.delivery.wake()

    def unfinished(self) -> dict[ThreadKey, BaseException]:
        """The threads whose last pass failed, and why: their work is still on disk."""
        return dict(self._unfinished)

    async def idle_workers(self) -> None:
        while True:
            running = [t for t in self._tasks.values() if not t.done()]
            if not running:
                return
            await asyncio.gather(*running, return_exceptions=True)

    async def stop_workers(self, *, within: float | None) -> None:
        """Start no worker from now on; give those running ``within`` seconds (None: as
        long as they take), then cut them where they stand, for recovery to continue."""
        self._closing = True
        running = {t for t in self._tasks.values() if not t.done()}
        if running:
            _, late = await asyncio.wait(running, timeout=within)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
        for thread in list(self._cut):
            self._cut.discard(thread)
            try:
                await mark_interrupted(self.rt, thread)
            except Exception:
                # It shows "running" until the next start; recovery continues it all the same.
                log.exception("could not mark the cut turn of %s interrupted", thread.label())

    async def idle(self) -> None:
        """Wait until no worker runs and nothing can be delivered now (tests, shutdown)."""
        while True:
            await self.idle_workers()
            if self.delivery is not None:
                await self.delivery.idle()
            if not any(not t.done() for t in self._tasks.values()):
                return
