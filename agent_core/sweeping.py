"""The engine's sweep and start-up recovery: what is due, found on disk and woken.

The sweep expires requests nobody decided in time, runs the reminders, escalations and
stranded quorums that are due (``Governing``), and wakes every thread with queued work
and no task, the threads of deferred calls whose retry is due, and those of approved
calls whose window closed before they could start (said stale then: ``staleness``).
Recovery at start-up (design flow 7, ``recovery``) finds what a crash left in motion,
sweeps, and wakes those threads.

A mixin of ``Engine``, like ``Queries``: the bot calls it at start-up and on a timer.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from approvals import ApprovalRequest, ApprovalsError, Decided, sweep_expired
from approvals.forms import prune_forms
from sessions import SessionsError, ThreadKey, off_loop

from .approval_events import decided_when_due
from .approved_call import runs_nothing
from .card_rules import show_new_rules
from .deferral import retry_due
from .delivery import Delivery
from .mirror import mirror_approval
from .recovery import ended_unsealed, find_work
from .runtime import Runtime
from .staleness import window_closed

__all__ = ["PRUNE_FORMS_EVERY", "Sweeping"]

log = logging.getLogger("signoff.engine")


# How often the sweep looks for modals' forms to remove (a listing of ``forms/``).
PRUNE_FORMS_EVERY = timedelta(hours=6)


class Sweeping:
    rt: Runtime
    delivery: Delivery | None
    _tasks: dict[ThreadKey, asyncio.Task[None]]
    _forms_pruned: datetime | None  # when the sweep last removed forms (None: not yet)

    if TYPE_CHECKING:
        # ThreadWorkers' and Governing's; declared for the type checker only, so that
        # neither is shadowed.
        def wake(self, thread: ThreadKey) -> None: ...

        async def sweep_governance(self) -> int: ...

    async def sweep(self, *, queued: bool = True) -> int:
        """Expire what is due, and wake every thread that still has queued work.

        The work queue is a listing per shard (256 of them): on a disk thread, not on the
        loop every turn shares; and not at all with ``queued=False`` (recovery has just
        listed it and wakes what it found).
        """
        rt = self.rt
        results = await sweep_expired(
            rt.home,
            rt.index,
            clock=rt.clock,
            policy=rt.policy,
            groups=rt.groups,
            runs_nothing=partial(runs_nothing, rt),
        )
        for result in results:
            request = ApprovalRequest.open(rt.home, result.capsule.id, clock=rt.clock)
            await mirror_approval(rt, request)
            if isinstance(result, Decided):
                rt.observer.emit(decided_when_due(request, decision=result.decision))
            self.wake(result.capsule.thread)
        await self.sweep_governance()
        await ended_unsealed(rt)
        await self._prune_forms()
        if queued:
            for thread in await off_loop(self.rt.coordination.work_queue.threads):
                if thread not in self._tasks:
                    self.wake(thread)
        await self._wake_waiting_calls()
        if self.delivery is not None:
            self.delivery.wake()
        return len(results)

    async def _prune_forms(self) -> None:
        now = self.rt.clock.now()
        if self._forms_pruned is not None and now - self._forms_pruned < PRUNE_FORMS_EVERY:
            return
        self._forms_pruned = now
        removed = await off_loop(prune_forms, self.rt.home, now=now)
        if removed:
            log.info("removed %d forms of decided requests", removed)

    async def _wake_waiting_calls(self) -> None:
        """Wake the threads of approved calls that wait and are due: a call whose tool was
        down and whose retry is due, and one whose window closed before it started (its
        worker says it stale: the kill switch, or the rest of its turn, holds it)."""
        rt, now = self.rt, self.rt.clock.now()
        async for row in rt.index.iter_approvals(untold=True):
            try:
                request = ApprovalRequest.open(rt.home, row.id, clock=rt.clock)
                due = bool(request.deferrals()) and retry_due(rt, request, now)
                due = due or (row.status == "approved" and window_closed(request, now))
            except (SessionsError, ApprovalsError):
                continue  # unreadable: its own problem, not a stop of every retry after it
            if due:
                self.wake(request.thread)

    async def after_recovery(self) -> dict[str, int]:
        """What a start does once it may be slow (linked to Slack, for a bot): expire what
        came due while no bot ran, and show the waiting cards under a policy changed since
        this home last applied one (``card_rules``); how many of each."""
        expired = await self.sweep(queued=False)
        return {"expired": expired, "rules_changed": await show_new_rules(self.rt)}

    async def recover(self, *, sweep: bool = True) -> dict[str, int]:
        """Design flow 7: costs what is in flight, not what is stored. Without ``sweep``
        the caller calls ``after_recovery`` once it can (recovery has listed the queue): expiring costs ~15 ms a request, and a bot back from days away may find
        thousands due, which must not hold up its link to Slack."""
        wake, counts = await find_work(self.rt)
        if sweep:
            counts |= await self.after_recovery()
        for thread in wake:
            self.wake(thread)
        counts["threads"] = len(wake)
        return counts
