"""The engine: what the Slack bot and the CLI call, and all they call.

    ingest(message)                 durable in the thread inbox, then woken; the bot acks after
    check_click(value, channel, ts) is this button a live card's? (no trust in the payload)
    decide(approval, user, ...)     authorize now, first decision wins, wake the thread
    edit(approval, user, ...)       Edit & approve: the edited call, approved (governing.py)
    may_decide(approval, user)      would a click by this person be accepted?
    stop(thread, user, slack_ts)    a person stopped the agent: cancel the turn, withdraw
    pending_for(user, channels)     what this person may decide now
    requests_of / recently_decided  a person's own requests and recent decisions (Home tab)
    history(session)                a thread's sessions, events and approvals, for traces
    sweep() / recover()             expire, remind and escalate what is due, re-wake
                                    stranded work / start-up

One object, built from mixins that each hold one part: ``ingest``, ``thread_workers``
(wake-ups), ``sweeping`` (the sweep and recovery), ``queries`` and ``person_queries``
(what the bot asks), ``governing`` (reasons, edits, forms, reminders), ``stopping`` (the
stop button). Here: opening and closing, and the decisions a click records.

Nothing about a pending approval lives only in memory (I6): the tasks the engine keeps
are wake-ups, and every one of them is re-derived from disk by ``recover``. What the
engine says in Slack is queued in the outbox and sent by ``delivery``, never awaited here.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import secrets
from datetime import datetime
from typing import Any

from approvals import (
    AlreadyDecided,
    ApprovalRequest,
    CannotRun,
    Decided,
    DecisionResult,
    EditRecorded,
    EditResult,
    Origin,
    Refused,
    VoteCounted,
    record_decision,
    scan_session_approvals,
)
from sessions import (
    Clock,
    Home,
    Index,
    IndexDamagedError,
    Outbox,
    OutboxEntry,
    SessionStore,
    SystemClock,
    ThreadKey,
    check_approval_id,
    check_slack_id,
    failpoint,
    index_damage,
    index_missing,
    migrate_flat_layout,
    off_loop,
    reindex,
    utc_iso,
)

from .approval_events import approval_expired, decision_recorded, quorum_decided, vote_recorded
from .approved_call import runs_nothing, tell_runs_nothing
from .delivery import Backoff, Delivery
from .governing import Governing
from .ingest import Ingest, StoredHere
from .mirror import mirror_approval
from .person_queries import PersonQueries
from .queries import PendingApproval, Queries
from .queued_status import status_entry
from .recent_keys import RecentKeys
from .runtime import Runtime
from .stopping import Stopping
from .stops import StopTurns
from .surface import Surface
from .sweeping import Sweeping
from .thread_workers import ThreadWorkers
from .tools import ToolRegistry

__all__ = ["Engine", "PendingApproval"]


class Engine(ThreadWorkers, Ingest, Sweeping, Queries, PersonQueries, Governing, Stopping):
    def __init__(self, rt: Runtime, delivery: Delivery | None) -> None:
        self.rt = rt
        self.delivery = delivery
        # The loop the engine (and its index connection) lives on. Ingest may be called
        # from another loop — the bot acks on a socket thread — and hands wake-ups here.
        self._loop = asyncio.get_running_loop()
        self._tasks: dict[ThreadKey, asyncio.Task[None]] = {}
        self._again: set[ThreadKey] = set()
        self._failures: dict[ThreadKey, int] = {}
        self._unfinished: dict[ThreadKey, BaseException] = {}
        self.retry_failed = True
        self._closing = False
        self._cut: set[ThreadKey] = set()
        self._stored_here = StoredHere()
        self._stop_turns = StopTurns()
        self._known_threads = RecentKeys[ThreadKey](10_000)
        self._forms_pruned: datetime | None = None
        # The latest worker failures (bounded): for operators and tests to look at.
        self.errors: collections.deque[BaseException] = collections.deque(maxlen=100)

    @classmethod
    async def open(
        cls,
        *,
        home: Home,
        surface: Surface | None,
        clock: Clock | None = None,
        delivery_poll: float = 1.0,
        delivery_backoff: Backoff | None = None,
        deliver_now: bool = True,
        **options: Any,
    ) -> Engine:
        """Open the index and build the runtime; ``options`` are Runtime fields.

        ``surface`` is where queued Slack writes are delivered; None (a terminal without
        Slack tokens) leaves them queued for the bot. ``deliver_now`` False: delivery
        starts at ``start_delivery`` (a terminal prints what was queued first).
        """
        clock = clock or SystemClock()
        index = await cls.open_index(home)
        try:
            store = SessionStore(home, clock=clock)
            rt = Runtime(home=home, store=store, index=index, clock=clock, **options)
            rt.registry.check_policy(rt.policy)
        except BaseException:
            await index.close()  # a bad configuration must not leave the index thread running
            raise
        delivery = None
        if surface is not None:
            delivery = Delivery(
                home=home,
                surface=surface,
                clock=clock,
                poll=delivery_poll,
                backoff=delivery_backoff,
                observer=rt.observer,
                policy=rt.policy,
                index=rt.index,
            )
            rt = dataclasses.replace(rt, outbox_written=delivery.wake)
            if deliver_now:
                delivery.start()
        return cls(rt, delivery)

    def start_delivery(self) -> None:
        """Start sending what is queued (a no-op once started, or without a surface)."""
        if self.delivery is not None:
            self.delivery.start()

    async def close(self, *, flush: float = 5.0, cut_after: float | None = None) -> None:
        """Let running turns finish (up to ``cut_after`` seconds, then cut them; None:
        no limit), send what can go out within ``flush`` seconds, and release it all."""
        await self.stop_workers(within=cut_after)
        if self.delivery is not None:
            await self.delivery.stop(flush=flush)
        await self.rt.index.close()
        await self.rt.registry.aclose()  # MCP servers stop
        aclose = getattr(self.rt.model, "aclose", None)
        if callable(aclose):
            await aclose()  # provider models hold HTTP connection pools

    @staticmethod
    async def open_index(home: Home) -> Index:
        """Open the index, rebuilding it from the directories when it is missing (I5)."""
        home.ensure()
        migrate_flat_layout(home)  # a home from before sharding (sessions/layout.py)
        while True:
            if index_missing(home):  # or emptied: it holds nothing (sessions/reindex.py)
                await reindex(home, scan_approvals=scan_session_approvals, if_missing=True)
            # Looked at before it is opened, which would write to it (WAL, our tables): a
            # command leaves a damaged file as it is; the bot set it aside before this.
            if (why := await off_loop(index_damage, home.index_path)) is not None:
                raise IndexDamagedError(
                    f"the index {home.index_path} cannot be used: {why}; what is recorded "
                    "on disk stands (`signoff run` sets the file aside and rebuilds the index "
                    "as it starts; `signoff reindex` rebuilds it now, when no bot runs)"
                )
            # Gone since it was found: a start set a damaged file aside meanwhile. Opened,
            # SQLite would create an empty index that every process then reads as "nothing
            # waiting": it is rebuilt instead. A file found sound is never set aside (a
            # start moves only one it finds damaged, under index.lock), so it is there to open.
            if not index_missing(home):
                return await Index.open(home.index_path, in_use=home.index_lock)

    @property
    def home(self) -> Home:
        return self.rt.home

    @property
    def clock(self) -> Clock:
        return self.rt.clock

    async def ping(self) -> None:
        """Raises unless the index answers (readiness)."""
        await self.rt.index.ping()

    async def tally(self) -> dict[str, Any]:
        """Sessions by state and pending approvals, for metrics (cheap: index counts)."""
        return await self.rt.index.tally()

    @property
    def tools(self) -> ToolRegistry:
        """The tools this engine offers the model."""
        return self.rt.registry

    # clicks and decisions ---------------------------------------------------------
    async def decide(
        self,
        approval_id: str,
        *,
        user: str,
        approve: bool,
        reason: str = "",
        seen_sha256: str | None = None,
        origin: Origin | None = None,
    ) -> DecisionResult:
        """``seen_sha256``: the hash of the arguments the person was shown (an approval
        counts only for those); None means the capsule's own, as every view before an
        edit showed. ``origin``: the organization a click came from (None: a terminal)."""
        rt = self.rt
        user = check_slack_id(user)  # before any look-up: a bad id never reaches a path
        request = ApprovalRequest.open(rt.home, check_approval_id(approval_id), clock=rt.clock)
        gone = runs_nothing(rt, request)
        result = await record_decision(
            request,
            user=user,
            approve=approve,
            reason=reason,
            policy=rt.policy,
            groups=rt.groups,
            clock=rt.clock,
            seen_sha256=seen_sha256,
            origin=origin,
            runs_nothing=gone,
        )
        if isinstance(result, Refused) and isinstance(result.reason, CannotRun):
            tell_runs_nothing(rt, request, result.reason)
        failpoint("decision.after_decision_file")
        await self.after_decision(request, user=user, result=result)
        return result

    async def after_decision(
        self, request: ApprovalRequest, *, user: str, result: DecisionResult | EditResult
    ) -> None:
        """Report, mirror and wake after a decision, a vote or an edit was recorded."""
        rt = self.rt
        rt.outbox_written()
        if isinstance(result, Decided):
            rt.observer.emit(decision_recorded(request, user=user, decision=result.decision))
        elif isinstance(result, VoteCounted | EditRecorded):
            # Others' Home tabs show the progress; the card's update may never land.
            rt.observer.emit(vote_recorded(request, user=user))
        elif isinstance(result, AlreadyDecided) and result.expired_now:
            rt.observer.emit(approval_expired(request, decision=result.decision))
        elif isinstance(result, AlreadyDecided) and result.completed_now:
            rt.observer.emit(quorum_decided(request, decision=result.decision))
        elif isinstance(result, AlreadyDecided):
            # Someone was offered a choice already made: what they saw may be a card whose
            # update was given up (its channel archived then). Shown again as it stands,
            # at no Slack call when Slack shows that already (``EntrySender``).
            await off_loop(request.queue_card, f"again-{secrets.token_hex(4)}")
        if isinstance(result, Decided | AlreadyDecided):
            # The call starts now; the card's update is queued and sent beside it.
            await mirror_approval(rt, request)
            self.wake(request.thread)

    def queue_status(self, thread: ThreadKey, *, key: str) -> None:
        """Queue the thread's agent status for the outbox: what its records say when it is
        sent, retried with the outbox's patience (a live view that could not set it)."""
        if self.rt.outbox.enqueue(status_entry(thread, key=key, clock=self.rt.clock)):
            self.rt.outbox_written()

    def notify(self, thread: ThreadKey, *, user: str, text: str, key: str) -> None:
        """Queue an ephemeral note to ``user`` in ``thread`` (a refusal, a vote counted)."""
        entry = OutboxEntry(
            id=f"notice-{key}",
            kind="notice",
            thread=thread,
            created_at=utc_iso(self.rt.clock.now()),
            seq=Outbox.next_seq(),
            text=text,
            user=user,
        )
        if self.rt.outbox.enqueue(entry):
            self.rt.outbox_written()
