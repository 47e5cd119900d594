"""An approved call that cannot start now: frozen by the kill switch, and stale once the
second clock (the decision's ``valid_until``) has run out before it started.

Staleness is said when it becomes true, not when the call could start again: whoever finds
the window closed first, under the thread lock and before any claim (so a call is either
claimed or stale, never both), writes the ``Stale`` record and queues the card's update and
the thread's note, under fixed outbox ids, so finding it again (another session, a restart,
the switch lifted) repeats nothing:

- a session about to start the call (``approved_call.stale_outcome``), which also tells
  the model; a call whose tool is down is tried again when its window closes at the
  latest (``deferral``), so this holds during an outage too;
- the thread's worker, for a call no session can start now: under the kill switch (none
  starts: ``tell_frozen_approvals``), or while other calls of the same model turn still
  wait for a decision (the turn resumes once all are decided: ``tell_stale_approvals``).
  The sweep wakes the thread of each approved call whose window closed and that is
  neither claimed nor stale yet (``window_closed``). The model is told by the session
  that settles the call later, which also traces it then (the record names no session).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from approvals import SYSTEM, ApprovalRequest, ApprovalsError, Decision, Stale
from sessions import SessionsError, readable_utc, utc_iso

from .runtime import Runtime

__all__ = [
    "deciders_text",
    "record_stale",
    "stale_due",
    "tell_frozen",
    "tell_frozen_approvals",
    "tell_stale",
    "tell_stale_approvals",
    "window_closed",
]


def deciders_text(decision: Decision) -> str:
    return ", ".join(f"<@{d}>" if d != SYSTEM else SYSTEM for d in decision.deciders)


def stale_due(decision: Decision, now: datetime) -> bool:
    """Has the decision's window closed? Its own instant is past it, as a card's deadline
    is (``approvals.expired``). (Never, for one without ``valid_until``.)"""
    return bool(decision.valid_until) and utc_iso(now) >= decision.valid_until


def record_stale(
    rt: Runtime, request: ApprovalRequest, decision: Decision, *, session_id: str
) -> tuple[Stale, bool] | None:
    """The approval's stale record, and whether this call wrote it; None while the call
    may still start (claimed, or in its window). Under the thread lock, before any claim.

    ``session_id``: the session that found it stale ("" for the worker under the kill
    switch, where none runs)."""
    stale = request.stale()
    if stale is not None:
        return stale, False
    if request.claimed() is not None or not stale_due(decision, rt.clock.now()):
        return None
    record = Stale(
        approval_id=request.id,
        session_id=session_id,
        at=utc_iso(rt.clock.now()),
        valid_until=decision.valid_until,
    )
    written = request.write_stale(record)
    return written, written is record


def tell_stale(rt: Runtime, request: ApprovalRequest, decision: Decision, stale: Stale) -> None:
    """The card turns to Stale and the thread is told, once each (fixed outbox ids)."""
    request.queue_card("stale")
    tool, who = request.capsule.tool, deciders_text(decision)
    request.queue_post(
        "stale",
        f"⌛ The approval of `{tool}` by {who} went stale: the call could not start before "
        f"{readable_utc(stale.valid_until)} and did not run. A fresh request is needed.",
        mentions=tuple(d for d in decision.deciders if d != SYSTEM),
    )
    rt.outbox_written()


def tell_frozen(request: ApprovalRequest, decision: Decision) -> None:
    """Approved while the kill switch is on: the card says Approved and nothing runs, so
    the thread is told why, once (a fixed outbox id). It runs once the switch is off."""
    tool = request.capsule.tool
    text = f"`{tool}` is approved, but the kill switch is on: it waits, and runs once it is off"
    if decision.valid_until:
        until = readable_utc(decision.valid_until)
        text += f" (if that is before {until}; after that, a fresh request is needed)"
    request.queue_post("frozen", text + ".")


def window_closed(request: ApprovalRequest, now: datetime) -> bool:
    """Approved, not started, not said stale yet, and past its window: its thread must be
    woken to say so (the sweep asks)."""
    decision = request.decision()
    if decision is None or decision.verdict != "approved" or not stale_due(decision, now):
        return False
    return request.stale() is None and request.claimed() is None


def _waiting_calls(
    rt: Runtime, approval_ids: Iterable[str]
) -> Iterator[tuple[ApprovalRequest, Decision]]:
    """Each approved call among ``approval_ids`` that has not started."""
    for approval_id in approval_ids:
        try:
            request = ApprovalRequest.open(rt.home, approval_id, clock=rt.clock)
            decision = request.decision()
            if decision is None or decision.verdict != "approved" or request.claimed():
                continue
        except (SessionsError, ApprovalsError):
            continue  # unreadable: settle reports it (it never runs)
        yield request, decision


def _say_stale(rt: Runtime, request: ApprovalRequest, decision: Decision) -> bool:
    """Said stale (now, or queued again: a crash may have come before the queueing)?"""
    found = record_stale(rt, request, decision, session_id="")
    if found is not None:
        tell_stale(rt, request, decision, found[0])
    return found is not None


def tell_frozen_approvals(rt: Runtime, approval_ids: Iterable[str]) -> None:
    """Under the kill switch (and the thread lock), tell each approved call among
    ``approval_ids`` that waits, or that went stale waiting.

    Driven from disk by the thread's worker, whichever path decided it (a click, the CLI,
    a quorum the sweep completed, a crash between the decision and this): told once,
    however often the thread is woken (fixed outbox ids).
    """
    for request, decision in _waiting_calls(rt, approval_ids):
        if not _say_stale(rt, request, decision):
            tell_frozen(request, decision)
    rt.outbox_written()


def tell_stale_approvals(rt: Runtime, approval_ids: Iterable[str]) -> None:
    """Under the thread lock, say stale each approved call among ``approval_ids`` whose
    window closed before it started, whether or not it can be settled now."""
    for request, decision in _waiting_calls(rt, approval_ids):
        if stale_due(decision, rt.clock.now()):
            _say_stale(rt, request, decision)
