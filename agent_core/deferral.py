"""An approved call whose tool cannot run now: not spent, told once, tried again later.

``realize`` raises ``Deferred`` before the call is checked and claimed, so nothing is
spent: the approval stays unclaimed, and a ``deferred-<n>`` record holds the attempt and
when to try again. The thread is told at the first attempt only. ``retry_due`` is the
other half: the worker and the sweep wake the call's thread once its retry is due, or at
once in a process that did not record it (a restart may have the tool back).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from approvals import SYSTEM, ApprovalRequest, Decision
from sessions import from_utc_iso, utc_iso

from .backoff import Backoff
from .loop import queue_reply
from .runtime import Runtime
from .session_run import SessionRun
from .staleness import deciders_text

__all__ = ["DEFERRAL_RETRY", "Deferred", "defer", "retry_due"]


class Deferred(Exception):
    """A control-flow signal: the approved call's tool cannot run now; nothing is spent."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# A deferred call is tried again after 30 s, then 1, 2, 4... minutes, at most every 10.
DEFERRAL_RETRY = Backoff(initial=30.0, maximum=600.0)


async def defer(
    run: SessionRun,
    request: ApprovalRequest,
    *,
    decision: Decision,
    reason: str,
    deferred: list[str],
) -> str:
    """The tool cannot run now: record the attempt, tell the thread once, try again later.

    ``deferred`` collects the ids deferred in this settling; returned is what the call's
    slot says meanwhile.
    """
    now = run.rt.clock.now()
    # A window closing before the next try: tried (and so said stale) as it closes, not
    # minutes later with the card still saying the call will run. Stale is "past
    # valid_until", so a second after it (a try before that would wait again).
    closes = (
        from_utc_iso(decision.valid_until) + timedelta(seconds=1) if decision.valid_until else None
    )

    def retry_at(attempt: int) -> str:
        due = now + timedelta(seconds=DEFERRAL_RETRY.delay(attempt))
        # Closed during the wait for the tool (a reconnect): now, which finds it stale.
        return utc_iso(min(due, max(closes, now)) if closes is not None else due)

    record = request.defer(reason=reason, at=utc_iso(now), retry_at=retry_at, boot=run.rt.boot)
    attempt = record.attempt
    await run.trace(
        "approved_call_deferred",
        {
            "approval_id": request.id,
            "attempt": attempt,
            "reason": reason,
            "retry_at": record.retry_at,
        },
    )
    deferred.append(request.id)
    tool = request.capsule.tool
    text = (
        f"approved by {deciders_text(decision)}, but `{tool}` did not run: {reason}. Nothing ran; "
        "the approval stands and the call runs once the tool is available again."
    )
    if attempt == 1:
        request.queue_card("deferred")  # the card says it waits, as the thread does
        queue_reply(
            run.rt,
            run.thread,
            run.id,
            f"deferred-{request.id}",
            f"⏳ {text[0].upper()}{text[1:]}",
            people=tuple(d for d in decision.deciders if d != SYSTEM),  # "approved by @bob"
        )
    return text


def retry_due(rt: Runtime, request: ApprovalRequest, now: datetime) -> bool:
    """May a deferred call be tried again? (True for one never deferred.)"""
    deferrals = request.deferrals()
    if not deferrals:
        return True
    last = deferrals[-1]
    # Another process recorded it: this one may be a restart with the tool back.
    return last.boot != rt.boot or last.retry_at <= utc_iso(now)
