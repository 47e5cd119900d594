"""Delivery: the outbox drained to a surface, in order per thread, until each entry lands.

One process per home drains (an flock on ``outbox/drain.lock``): the bot while it runs, or
a CLI process with Slack tokens when no bot does. Entries of one thread go out in the
order they were queued; threads go out side by side. A failure is retried with backoff
(honouring the far side's Retry-After) and stops only on a permanent error, which is
recorded. Whenever an earlier attempt may have landed (every entry found pending at start,
and any entry whose last attempt ended ambiguously) the surface is asked to look first and
adopt what is already in the thread, so nothing is posted twice.

A card entry shows the approval's card as it is at send time, however late or repeated
(``card_entries``); so does a status entry show what the thread's records say then, which
is why one never holds the entries behind it and only the last of a thread's is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime, timedelta

from approvals import ApprovalsError, Policy
from sessions import (
    Clock,
    DrainerClaim,
    Home,
    Index,
    OutboxDone,
    OutboxEntry,
    SessionsError,
    SystemClock,
    ThreadKey,
    coordination_for,
    off_loop,
)

from .backoff import Backoff
from .cancelling import cancel_and_wait
from .entry_sending import EntrySender
from .observe import NullObserver, Observer, OutboxDepth
from .surface import DeliveryError, Surface

__all__ = ["Backoff", "Delivery"]

log = logging.getLogger("signoff.delivery")


class Delivery:
    def __init__(
        self,
        *,
        home: Home,
        surface: Surface,
        clock: Clock | None = None,
        poll: float = 1.0,
        backoff: Backoff | None = None,
        max_lanes: int = 16,
        observer: Observer | None = None,
        policy: Policy | None = None,
        index: Index | None = None,
    ) -> None:
        self.home = home
        self.outbox = coordination_for(home).outbox
        self.surface = surface
        self.clock = clock or SystemClock()
        self.poll = poll
        self.backoff = backoff or Backoff()
        self.max_lanes = max_lanes
        # Lanes send at most this many entries at once. A lane waiting for its entry to be
        # ready (a streamed reply whose turn still runs tools, up to minutes) holds none:
        # held, as many such threads as lanes kept every other thread's replies and cards.
        self._sending = asyncio.Semaphore(max_lanes)
        self.observer: Observer = observer or NullObserver()
        self._wake = asyncio.Event()
        self._changed = asyncio.Event()
        self._lanes: dict[ThreadKey, asyncio.Task[None]] = {}
        self._not_before: dict[ThreadKey, float] = {}
        self.sender = EntrySender(
            home=home, surface=surface, clock=self.clock, policy=policy, index=index
        )
        # Results of entries that went out but whose record could not be written (a full
        # disk), by thread: the thread's next pass writes them instead of sending again,
        # which a notice (ephemeral: nothing to look for in Slack) would show twice.
        self._unrecorded: dict[ThreadKey, list[OutboxDone]] = {}
        self._record_failures: dict[ThreadKey, int] = {}
        self._first_pass = True
        self._drainer: DrainerClaim | None = None
        # How long to wait for another process's claim before saying so (in the log, and
        # in ``claim_problem`` for /readyz); None: never (a terminal waiting on the bot's
        # claim is the usual case, not a problem). Not taken over: an entry the holder was
        # sending when it stopped (Ctrl-Z) could then go out twice.
        self.claim_patience: timedelta | None = None
        self.claim_problem: str | None = None
        self._claim_wanted_since: datetime | None = None
        self._task: asyncio.Task[None] | None = None

    # lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def wake(self) -> None:
        self._wake.set()

    @property
    def owner(self) -> bool:
        """Does this process hold the home's drain lock?"""
        if self._drainer is None:
            self._drainer = self.outbox.claim_drainer()
            self._note_claim()
        return self._drainer is not None

    def _note_claim(self) -> None:
        if self._drainer is not None:
            if self.claim_problem is not None:
                log.info("delivering again: this process has the outbox's drain claim now")
            self.claim_problem = self._claim_wanted_since = None
            return
        now = self.clock.now()
        since = self._claim_wanted_since = self._claim_wanted_since or now
        patience = self.claim_patience
        if self.claim_problem is None and patience is not None and now - since >= patience:
            pid = self.outbox.drainer_pid()
            holder = f"process {pid}" if pid is not None else "another process"
            self.claim_problem = (
                f"delivery: {holder} has held the outbox's drain claim for"
                f" {int((now - since).total_seconds())}s (a terminal `signoff` suspended"
                " with Ctrl-Z?); nothing goes to Slack until it lets go"
            )
            log.warning("%s", self.claim_problem)

    async def stop(self, *, flush: float = 0.0) -> None:
        """Stop draining; first wait up to ``flush`` seconds for what can go out now."""
        if flush > 0 and self._task is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(flush):
                    await self.idle()
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None
        for task in list(self._lanes.values()):
            task.cancel()
        await asyncio.gather(*self._lanes.values(), return_exceptions=True)
        if self._drainer is not None:
            self._drainer.release()
            self._drainer = None

    async def idle(self) -> None:
        """Wait until nothing can be delivered right now (sent, or waiting for a retry)."""
        while self._task is not None and self.owner:
            if not self._lanes:
                now = time.monotonic()
                if not any(
                    self._not_before.get(e.thread, 0.0) <= now for e in self.outbox.pending()
                ):
                    return
                self.wake()
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.05):
                    await self._changed.wait()

    # scheduling -------------------------------------------------------------------
    async def _run(self) -> None:
        while True:
            try:
                if self.owner:
                    self._schedule()
                else:  # another process holds delivery: what piles up meanwhile still shows
                    self.observer.emit(OutboxDepth(depth=self.outbox.depth()))
            except Exception:  # a bad entry or a full disk must not stop delivery for good
                log.exception("delivery pass failed; trying again")
            timeout = self.poll
            if self._not_before:
                soonest = min(self._not_before.values()) - time.monotonic()
                timeout = max(0.01, min(timeout, soonest))
            # Not asyncio.wait_for: on Python 3.11 it returns instead of raising when the
            # cancel of stop() comes in the same loop step as the wake-up, and this loop,
            # never cancelled, kept stop() (and the bot's shutdown) waiting forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
            self._wake.clear()

    def _schedule(self) -> None:
        entries = self.outbox.pending()
        self.observer.emit(OutboxDepth(depth=len(entries)))
        if self._first_pass:
            # Any of these may have been sent just before the last process died.
            self.sender.check_first.update(e.id for e in entries)
            self._first_pass = False
        lanes: dict[ThreadKey, list[OutboxEntry]] = {}
        for entry in entries:
            lanes.setdefault(entry.thread, []).append(entry)
        now = time.monotonic()
        for thread, batch in lanes.items():
            if thread in self._lanes or self._not_before.get(thread, 0.0) > now:
                continue
            self._not_before.pop(thread, None)
            task = asyncio.get_running_loop().create_task(self._lane(thread, batch))
            self._lanes[thread] = task

    async def _lane(self, thread: ThreadKey, batch: list[OutboxEntry]) -> None:
        finished = self._unrecorded.pop(thread, [])
        try:
            skip = {done.id for done in finished}
            for entry in batch:
                if entry.id in skip:
                    continue
                if any(done.entry.kind == "notice" for done in finished):
                    # Ephemeral: not to be found in Slack after a kill while this entry
                    # waits (a hung post, a streamed reply's turn), so recorded first.
                    try:
                        await off_loop(self.outbox.complete, finished)
                    except Exception:
                        return  # a full disk: kept for the next pass, as below
                    finished = []
                try:
                    await self.surface.ready(entry)
                    async with self._sending:
                        results = await self.sender.send(entry, batch, observer=self.observer)
                except DeliveryError as exc:
                    if exc.permanent:
                        log.warning("gave up on %s: %s", entry.id, exc.reason)
                        finished.append(self.sender.done(entry, "failed", error=exc.reason))
                        continue
                    self._retry_later(thread, entry, exc)
                    if entry.kind == "status":
                        # Rendered from disk when sent, it is as true after the entries
                        # behind it as before them: a surface failing for hours must not
                        # hold the thread's replies.
                        continue
                    return
                except (SessionsError, ApprovalsError) as exc:
                    log.warning("cannot deliver %s: %s", entry.id, exc)
                    finished.append(self.sender.done(entry, "failed", error=str(exc)))
                    continue
                except Exception as exc:
                    log.exception("delivery of %s failed", entry.id)
                    self._retry_later(
                        thread, entry, DeliveryError(f"{type(exc).__name__}", ambiguous=True)
                    )
                    return
                for done in results:
                    finished.append(done)
                    skip.add(done.id)
        finally:
            try:
                if finished:
                    await off_loop(self.outbox.complete, finished)
                self._record_failures.pop(thread, None)
            except Exception as exc:  # a full disk: the entries stay pending, and went out
                log.warning("could not record %d delivered entries: %s", len(finished), exc)
                self._unrecorded[thread] = finished
                failures = self._record_failures.get(thread, 0) + 1
                self._record_failures[thread] = failures
                # Not sooner than a Retry-After this pass was given for the thread.
                self._not_before[thread] = max(
                    self._not_before.get(thread, 0.0),
                    time.monotonic() + self.backoff.delay(failures),
                )
            finally:
                self._lanes.pop(thread, None)
                self._changed.set()
                self.wake()

    def _retry_later(self, thread: ThreadKey, entry: OutboxEntry, exc: DeliveryError) -> None:
        if exc.ambiguous:
            self.sender.check_first.add(entry.id)
        if exc.retry_after is not None:
            # Slack said when: waited out as asked, and not a failure that lengthens the
            # backoff (a burst of 429s made the next hung call wait its minute).
            self._not_before[thread] = time.monotonic() + exc.retry_after
            log.info("will retry %s in %.1fs (Slack asked to wait)", entry.id, exc.retry_after)
            return
        attempt = self.sender.attempts.get(entry.id, 0) + 1
        self.sender.attempts[entry.id] = attempt
        delay = self.backoff.delay(attempt)
        self._not_before[thread] = time.monotonic() + delay
        log.info("will retry %s in %.1fs (attempt %d): %s", entry.id, delay, attempt, exc.reason)
