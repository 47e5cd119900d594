"""The engine: what the Slack bot (or the CLI) calls.

    ingest(message)          durable in the thread inbox, then woken; the bot acks after
    decide(approval, user)   authorize now, first decision wins, lock the card, resume
    sweep()                  expire what is due (index-driven, injectable clock)
    recover()                start-up: close crashed sessions, drain inboxes, finish
                             interrupted decisions, post missing cards

Nothing about a pending approval lives only in memory (I6): the tasks kept here are
wake-ups, and every one of them is re-derived from disk by ``recover``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from approvals import (
    AlreadyDecided,
    Capsule,
    CardRef,
    Decided,
    Decision,
    DecisionResult,
    decide,
    locate,
    read_optional,
    record_path,
    scan_session_approvals,
    sweep_expired,
)
from sessions import (
    Clock,
    Home,
    InboxMessage,
    Index,
    SessionStore,
    SystemClock,
    ThreadDir,
    ThreadKey,
    WorkQueue,
    failpoint,
    file_lock_async,
    is_sealed,
    reindex,
    seal,
    try_file_lock,
    utc_iso,
)

from .loop import post_cards
from .mirror import mirror_approval
from .model import Model
from .runtime import Runtime
from .surface import Surface
from .tools import ToolRegistry
from .worker import close_crashed, process_thread

__all__ = ["Engine"]

log = logging.getLogger("signoff.engine")


class Engine:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        # The loop the engine (and its index connection) lives on. Ingest may be called
        # from another loop — the bot acks on a socket thread — and hands wake-ups here.
        self._loop = asyncio.get_running_loop()
        self._tasks: dict[ThreadKey, asyncio.Task[None]] = {}
        self._again: set[ThreadKey] = set()
        self.errors: list[BaseException] = []

    @classmethod
    async def open(
        cls,
        *,
        home: Home,
        model: Model,
        registry: ToolRegistry,
        surface: Surface,
        clock: Clock | None = None,
        **options: Any,
    ) -> Engine:
        """Open the index and build the runtime; ``options`` are further Runtime fields."""
        clock = clock or SystemClock()
        index = await cls.open_index(home)
        rt = Runtime(
            home=home,
            store=SessionStore(home, clock=clock),
            index=index,
            model=model,
            registry=registry,
            surface=surface,
            clock=clock,
            **options,
        )
        registry.check_policy(rt.policy)
        return cls(rt)

    async def close(self) -> None:
        await self.idle()
        await self.rt.index.close()
        await self.rt.registry.aclose()  # MCP servers stop
        aclose = getattr(self.rt.model, "aclose", None)
        if callable(aclose):
            await aclose()  # provider models hold HTTP connection pools

    @staticmethod
    async def open_index(home: Home) -> Index:
        """Open the index, rebuilding it from the directories when it is missing (I5)."""
        home.ensure()
        if not home.index_path.exists():
            await reindex(home, scan_approvals=scan_session_approvals, if_missing=True)
        return await Index.open(home.index_path)

    # ingest -----------------------------------------------------------------------
    async def ingest(self, message: InboxMessage) -> bool:
        """Store a message durably; True if new. Only after this returns may Slack be acked."""
        # fsync blocks; in a thread, a burst of envelopes overlaps its disk waits.
        fresh, waiting = await asyncio.to_thread(self._store, message)
        if waiting:
            self._wake_from_anywhere(message.thread)
        return fresh

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
        tdir = ThreadDir(self.rt.home, message.thread)
        tdir.ensure()
        fresh = tdir.inbox.deliver(message)
        failpoint("ingest.after_link")
        # A redelivery of a message still waiting in new/ may follow a crash that came
        # before the queue marker: mark and wake again, so it is never stranded.
        waiting = fresh or tdir.inbox.waiting(message.key)
        if waiting:
            WorkQueue(self.rt.home).mark(message.thread)
        return fresh, waiting

    async def remember_event(self, event_id: str) -> bool:
        """The fast path of dedupe by event id; the inbox's file names are the durable one."""
        mark = self.rt.index.mark_seen(event_id, utc_iso(self.rt.clock.now()))
        if asyncio.get_running_loop() is self._loop:
            return await mark
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(mark, self._loop))

    # workers ----------------------------------------------------------------------
    def wake(self, thread: ThreadKey) -> None:
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
                except Exception as exc:  # logged and kept: the disk state lets recovery retry
                    log.exception("worker for %s failed", thread.label())
                    self.errors.append(exc)
                if thread not in self._again:
                    return
        finally:
            # Parked threads cost nothing in memory: a finished worker leaves no trace here.
            if self._tasks.get(thread) is asyncio.current_task():
                del self._tasks[thread]

    async def idle(self) -> None:
        """Wait until no worker runs (tests and shutdown)."""
        while True:
            running = [t for t in self._tasks.values() if not t.done()]
            if not running:
                return
            await asyncio.gather(*running, return_exceptions=True)

    # decisions --------------------------------------------------------------------
    async def decide(
        self, approval_id: str, *, user: str, approve: bool, reason: str = ""
    ) -> DecisionResult:
        rt = self.rt
        result = await decide(
            rt.home,
            approval_id,
            user=user,
            approve=approve,
            reason=reason,
            policy=rt.policy,
            groups=rt.groups,
            clock=rt.clock,
        )
        failpoint("decision.after_decision_file")
        if isinstance(result, Decided | AlreadyDecided):
            # Also for AlreadyDecided: finishing what an interrupted process left is idempotent.
            await self._after_decision(result.capsule, result.decision)
        return result

    async def _after_decision(self, capsule: Capsule, decision: Decision) -> None:
        await mirror_approval(self.rt, capsule.id)
        session_dir = self.rt.home.session_dir(capsule.session_id)
        card = read_optional(record_path(session_dir, capsule.id, "card"), CardRef)
        if card is not None:
            try:
                await self.rt.surface.update_card(capsule, decision, card)
            except Exception:
                log.exception("could not update the card of %s", capsule.id)
        self.wake(capsule.thread)

    async def sweep(self) -> int:
        """Expire what is due; returns how many requests it finished."""
        results = await sweep_expired(self.rt.home, self.rt.index, clock=self.rt.clock)
        for result in results:
            await self._after_decision(result.capsule, result.decision)
        return len(results)

    async def post_missing_cards(self) -> int:
        """Cards whose posting failed or was cut short by a crash go out again (I6)."""
        rt, posted = self.rt, 0
        rows = await rt.index.approvals(status="pending", card_missing=True, limit=100_000)
        for approval in rows:
            if rt.store.load(approval.session_id).terminal:
                # Under the thread lock: the worker that parked it may be posting it now.
                async with file_lock_async(ThreadDir(rt.home, approval.thread).lock_path):
                    await post_cards(rt, [locate(rt.home, approval.id)[1]])
                posted += 1
        return posted

    # recovery ---------------------------------------------------------------------
    async def recover(self) -> dict[str, int]:
        """Design flow 7; costs what is in flight, not what is stored."""
        rt = self.rt
        counts = {"crashed": 0, "threads": 0, "decisions": 0, "cards": 0}
        wake: set[ThreadKey] = set()
        for row in await rt.index.sessions(states=("created", "running"), limit=100_000):
            record = rt.store.load(row.id)
            if record.terminal:
                directory = rt.home.session_dir(record.id)
                if not is_sealed(directory):
                    seal(directory)  # a crash came between the final state and its seal
                await rt.index.put_session(record)  # the index lagged one step
                await rt.index.put_approvals(scan_session_approvals(directory, record))
                wake.add(record.thread)
                continue
            tdir = ThreadDir(rt.home, record.thread)
            with try_file_lock(tdir.lock_path) as free:
                if not free:
                    continue  # a live process is running it
                if tdir.head() != record.id:
                    # Not HEAD: nothing continues from it, so just close it. A crashed
                    # HEAD is left to the worker, which closes it *and* continues it.
                    await close_crashed(rt, record)
            counts["crashed"] += 1
            wake.add(record.thread)
        for thread in WorkQueue(rt.home).threads():
            wake.add(thread)
        for approval in await rt.index.approvals(status="pending", limit=100_000):
            session_dir = rt.home.session_dir(approval.session_id)
            if record_path(session_dir, approval.id, "decision").exists():
                await mirror_approval(rt, approval.id)
                wake.add(approval.thread)
                counts["decisions"] += 1
        counts["cards"] = await self.post_missing_cards()
        for approval in await rt.index.approvals(untold=True, limit=100_000):
            wake.add(approval.thread)
        counts["expired"] = await self.sweep()
        for thread in wake:
            self.wake(thread)
        counts["threads"] = len(wake)
        return counts
