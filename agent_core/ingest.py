"""Ingest: a message is durable in its thread's inbox before Slack is acked, then woken.

The thread's work-queue marker is made before the message is linked into the inbox, so
start-up recovery and the sweep always find it, even if Slack never delivers it again.
The bot acks on a socket thread, so ingest may be called from another event loop: the
wake-up is handed to the engine's loop.

Slack sends a mention twice (``app_mention`` and ``message``), often at once. A copy of
a message this process stored (or is storing) waits for that copy and is a duplicate: it
is durable and its thread was woken, so looking again would only cost disk work and a
second pass of the worker. Were storing the first copy to fail, this one is stored.

A mixin of ``Engine``, like ``Queries``: the bot still talks to one object.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from typing import TYPE_CHECKING

from sessions import (
    EditOutcome,
    InboxMessage,
    ThreadDir,
    ThreadKey,
    failpoint,
    off_loop,
    revise_message,
    withdraw_message,
)

from .recent_keys import RecentKeys
from .runtime import Runtime

__all__ = ["Ingest", "StoredHere"]

_Key = tuple[ThreadKey, str]


class StoredHere:
    """Messages this process stored or is storing, by (thread, ts): the last ``size``.
    Thread-safe: ingest runs on the socket thread's loop and on the engine's."""

    def __init__(self, size: int = 10_000) -> None:
        self._done: RecentKeys[_Key] = RecentKeys(size)
        self._storing: dict[_Key, Future[None]] = {}
        self._lock = threading.Lock()

    def claim(self, key: _Key) -> Future[None] | None:
        """None: the caller stores the message, then calls ``settle``. Otherwise a future
        done once the copy this process took is durable (an error if storing it failed)."""
        with self._lock:
            if key in self._done:
                stored: Future[None] = Future()
                stored.set_result(None)
                return stored
            if key in self._storing:
                return self._storing[key]
            storing: Future[None] = Future()
            # Running: a waiter's cancel (asyncio.wrap_future passes it on) cannot cancel
            # what every copy waits for, nor make ``settle`` fail after the message is stored.
            storing.set_running_or_notify_cancel()
            self._storing[key] = storing
            return None

    def settle(self, key: _Key, *, stored: bool) -> None:
        """The caller's copy is durable (``stored``), or storing it failed or was cut."""
        with self._lock:
            waiting = self._storing.pop(key)
            if stored:
                self._done.add(key)
        if stored:
            waiting.set_result(None)
        else:
            waiting.set_exception(FirstCopyLost())


class FirstCopyLost(Exception):
    """Storing the copy another envelope brought failed: this one is stored itself."""


class Ingest:
    rt: Runtime
    _loop: asyncio.AbstractEventLoop
    _stored_here: StoredHere
    _known_threads: RecentKeys[ThreadKey]  # threads signoff takes part in

    if TYPE_CHECKING:
        # ThreadWorkers'; declared for the type checker only, so it never shadows it.
        def wake(self, thread: ThreadKey) -> None: ...

    async def ingest(self, message: InboxMessage) -> bool:
        """Store a message durably; True if new. Only after this returns may Slack be acked."""
        key = (message.thread, message.ts)
        while (first := self._stored_here.claim(key)) is not None:
            try:
                await asyncio.wrap_future(first)
            except FirstCopyLost:
                continue
            return False
        stored = False
        try:
            fresh = await self._store_and_wake(message)
            stored = True
        finally:
            self._stored_here.settle(key, stored=stored)
        return fresh

    async def _store_and_wake(self, message: InboxMessage) -> bool:
        # fsync blocks; in a thread, a burst of envelopes overlaps its disk waits.
        fresh, waiting = await off_loop(self._store, message)
        if waiting:
            # Not for a message refused as withdrawn before it came: its thread may hold
            # nothing else, and a reply there is no request (``knows_thread``).
            self._known_threads.add(message.thread)
            self._wake_from_anywhere(message.thread)
        return fresh

    async def revise(
        self,
        thread: ThreadKey,
        ts: str,
        *,
        user: str,
        text: str,
        edited: str,
        unstored: InboxMessage | None = None,
    ) -> EditOutcome:
        """``user`` edited their message ``ts`` (the edit dated ``edited``): its new text, if
        it still waits to be read and no later edit of it came first (durable on return:
        only then may Slack be acked). ``unstored``: the message as edited, when signoff
        would take it: stored so if the message itself did not come yet (Slack keeps no
        order, and retries a failed delivery later), which is then its duplicate; also
        when an older edit withdrew it by taking the mention out, and this one asks again."""
        tdir = ThreadDir(self.rt.home, thread)
        changes = {"user": user, "text": text, "edited": edited}
        outcome = await off_loop(revise_message, tdir, ts, **changes)
        if outcome not in ("unknown", "restored") or unstored is None:
            return outcome
        if outcome == "restored":
            # Stored here once already, maybe (as this process remembers): stored again.
            if await self._store_and_wake(unstored):
                return outcome
        elif await self.ingest(unstored):
            return "stored_early"
        return await off_loop(revise_message, tdir, ts, **changes)  # it came meanwhile

    async def withdraw(
        self,
        thread: ThreadKey,
        ts: str,
        *,
        edited: str | None = None,
        before_it_came: bool = False,
    ) -> EditOutcome:
        """The message ``ts`` was deleted, or edited (by the edit dated ``edited``) to ask
        signoff nothing: never answered, if it still waits to be read, or (``before_it_came``:
        signoff would take it) when it comes."""
        tdir = ThreadDir(self.rt.home, thread)
        return await off_loop(
            withdraw_message, tdir, ts, edited=edited, before_it_came=before_it_came
        )

    async def withdraw_in_channel(self, team: str, channel: str, ts: str) -> EditOutcome:
        """The message ``ts`` of ``channel`` was deleted, and Slack did not say its thread
        (a ``message_deleted`` without ``previous_message``, as its reference example):
        looked for where messages wait (the work queue's threads), and as a first message.
        Waiting threads are looked in whatever team they are kept under: a ts names one
        message of a channel, and a thread of a Slack Connect channel may be kept under the
        team that created it while the deletion names the installation (``bot/event_team.py``)."""
        return await off_loop(self._withdraw_in_channel, team, channel, ts)

    def _withdraw_in_channel(self, team: str, channel: str, ts: str) -> EditOutcome:
        own = ThreadKey(team=team, channel=channel, thread_ts=ts)
        queued = self.rt.coordination.work_queue.threads()
        waiting = [t for t in queued if t.channel == channel and t != own]
        for thread in (own, *waiting):
            outcome = withdraw_message(ThreadDir(self.rt.home, thread), ts)
            if outcome in ("withdrawn", "read_already"):
                return outcome
        return "unknown"

    def knows_thread(self, thread: ThreadKey) -> bool:
        """Has signoff taken part in this thread (so follow-ups need no mention)? Asked on
        the socket thread for every plain message: a thread known once is remembered."""
        if thread in self._known_threads:
            return True
        tdir = ThreadDir(self.rt.home, thread)
        # A message taken there waits in its inbox or made a session (HEAD); the directory
        # alone may hold only the log of an ephemeral (a refused click), which nobody else
        # saw, or the inbox only the line of a message withdrawn before it came.
        known = (tdir.path / "HEAD").exists() or tdir.inbox.held_any()
        if known:
            self._known_threads.add(thread)
        return known

    def took_part_by(self, thread: ThreadKey, ts: str) -> bool:
        """Had signoff taken a message of this thread by the time its message ``ts`` was
        posted (so a reply then was for it, with no mention)? A reply from before signoff
        took part (a thread it was asked in later) was never for it, nor is its edit."""
        return self.knows_thread(thread) and ThreadDir(self.rt.home, thread).inbox.held_by(ts)

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
