"""Stopping the agent in one thread: a kill switch a person pulls from Slack.

``stop_thread`` (what ``Engine.stop`` does) writes the thread's stop marker first, so
nothing after it depends on memory; then withdraws every request still waiting in the
thread (a denial "stopped from Slack by <@…>", through ``approvals.withdraw``, which marks
the work queue and queues the card's update); wakes a turn waiting on the model; and
queues one confirmation in the thread. The loop and the executor ask ``active_stop``
before every model call and tool call, as they ask about the kill switch, and end the
session as cancelled with the stop as its reason (the trace's ``session_ended``).

Whether the stopper may decide a request may ask Slack (who is in an approver group), and
a stop from Slack is acked only once it is applied: its caller gives those lookups
``within`` seconds all told. What Slack has not answered by then counts as unknown, and
the request is kept waiting (never withdrawn on an unknown), said in the confirmation.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from approvals import (
    ApprovalRequest,
    ApprovalsError,
    Decided,
    Decision,
    Refused,
    Unchecked,
    may_decide,
    withdraw,
)
from sessions import (
    Outbox,
    OutboxEntry,
    SessionsError,
    ThreadDir,
    ThreadKey,
    from_utc_iso,
    ts_after,
    utc_iso,
)

from .approval_events import decision_recorded
from .messages import Message, UserMessage
from .mirror import mirror_approval
from .runtime import Runtime
from .stop_marker import StopRequest, clear_stop, read_stop, record_stop

__all__ = ["StopOutcome", "StopTurns", "active_stop", "stop_thread", "superseded"]


@dataclass(frozen=True)
class StopOutcome:
    stop: StopRequest
    # A turn was running (or waiting on the model) when the stop came.
    interrupted: bool
    # The requests this stop withdrew, with the denial recorded for each.
    withdrawn: tuple[tuple[ApprovalRequest, Decision], ...] = ()
    # Older than work the thread took up after it (``superseded``): nothing was done.
    stale: bool = False
    # The requests left waiting, the stopper being no approver of theirs: why, in words.
    kept: tuple[tuple[ApprovalRequest, str], ...] = ()
    # This stop, delivered again, was applied in full before (its confirmation is queued
    # or sent): nothing was done again.
    repeated: bool = False


class StopTurns:
    """One stop of a thread applied at a time. Slack leaves the stop button until the turn
    ends, so a double click (or two people) stops it twice at once; applied side by side,
    the second saw the first recorded, but whichever withdrew a request first, the other
    still waiting on Slack, both told the thread that it stopped. In turn, the second finds
    the first applied in full, and says nothing unless it withdrew more."""

    def __init__(self) -> None:
        self._held: dict[ThreadKey, tuple[asyncio.Lock, int]] = {}  # lock, its users

    @contextlib.asynccontextmanager
    async def turn(self, thread: ThreadKey) -> AsyncIterator[None]:
        lock, users = self._held.get(thread) or (asyncio.Lock(), 0)
        self._held[thread] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._held[thread]
            if users > 1:
                self._held[thread] = (lock, users - 1)
            else:
                del self._held[thread]


def superseded(rt: Runtime, stop: StopRequest) -> bool:
    """Has the thread taken up a person's message newer than ``stop``? Then the stop is
    stale (as ``active_stop`` holds for turns): Slack delivering it again after its ack
    went missing must not stop or withdraw what was asked since."""
    taken = ThreadDir(rt.home, stop.thread).inbox.taken()
    return any(ts_after(ts, stop.slack_ts) for ts in taken)


def active_stop(
    rt: Runtime, thread: ThreadKey, transcript: Sequence[Message]
) -> StopRequest | None:
    """The stop that applies to this work, if any; a stop older than a person's latest
    message in the thread is stale and is cleared."""
    stop = read_stop(rt.home, thread)
    if stop is None:
        return None
    newer = any(
        isinstance(m, UserMessage) and m.ts and ts_after(m.ts, stop.slack_ts) for m in transcript
    )
    if newer:
        clear_stop(rt.home, stop)
        return None
    return stop


async def _why_kept(
    rt: Runtime, request: ApprovalRequest, stop: StopRequest, *, deadline: float | None
) -> str | None:
    """Why the stopper may not withdraw ``request`` (None: they may): they asked for it,
    or may decide it, as their click would be judged (``stop.origin``); Slack's answers
    are waited for until ``deadline`` (the loop's time), unknown after it."""
    if stop.user in request.capsule.askers:
        return None
    who = f"<@{stop.user}>"
    unchecked = f"signoff could not check with Slack whether {who} may decide it"
    try:
        async with asyncio.timeout_at(deadline):
            refusal = await may_decide(
                request, user=stop.user, policy=rt.policy, groups=rt.groups, origin=stop.origin
            )
            if refusal is None:
                return None
            if isinstance(refusal, Unchecked):
                return unchecked
            # Refused only for where they are from?
            everywhere = await may_decide(
                request, user=stop.user, policy=rt.policy, groups=rt.groups
            )
    except TimeoutError:
        return unchecked
    if stop.origin is not None and everywhere is None:
        if not stop.origin.team:
            return (
                f"signoff could not check with Slack which organization {who} is in, "
                "so it did not withdraw it"
            )
        return f"{who} is in another organization"
    return f"{who} may not decide it"


async def withdraw_waiting(
    rt: Runtime, stop: StopRequest, *, deadline: float | None = None, asked_by: str | None = None
) -> tuple[list[tuple[ApprovalRequest, Decision]], list[tuple[ApprovalRequest, str]]]:
    """Deny the thread's requests that still wait and that the stopper asked for or may
    decide; the first decision wins. Others stay for their approvers (the second list,
    with why), among them those Slack did not say by ``deadline`` (the loop's time)
    whether the stopper may decide. ``asked_by``: only requests asked by then (``utc_iso``;
    None: all)."""
    out: list[tuple[ApprovalRequest, Decision]] = []
    kept: list[tuple[ApprovalRequest, str]] = []
    for approval_id in ThreadDir(rt.home, stop.thread).open_approvals():
        try:
            request = ApprovalRequest.open(rt.home, approval_id, clock=rt.clock)
        except (SessionsError, ApprovalsError):
            continue  # unreadable: settle reports it, and it never runs
        if request.decision() is not None:
            continue
        if asked_by is not None and _asked_after(request, asked_by):
            continue  # not waiting when the stop was made: not this stop's to withdraw
        why = await _why_kept(rt, request, stop, deadline=deadline)
        if why is not None:
            kept.append((request, why))
            continue  # stopping the work is anyone's; denying someone's request is not
        # A vote being written holds the lock for milliseconds; within the stop's budget.
        wait = None if deadline is None else max(0.05, deadline - asyncio.get_running_loop().time())
        result = await withdraw(
            request, user=stop.user, reason=stop.reason, now=rt.clock.now(), wait=wait
        )
        if isinstance(result, Refused):
            kept.append((request, "an approval of it was being recorded just then"))
            continue
        rt.outbox_written()  # the card's update was queued with the decision
        await mirror_approval(rt, request)
        if isinstance(result, Decided):
            out.append((request, result.decision))
            # Here, not in a caller: a turn that parks under a stop withdraws too.
            rt.observer.emit(decision_recorded(request, user=stop.user, decision=result.decision))
    return out, kept


def _asked_after(request: ApprovalRequest, moment: str) -> bool:
    return from_utc_iso(request.capsule.created_at) > from_utc_iso(moment)


def _confirmation(outcome: StopOutcome) -> str:
    who = f"<@{outcome.stop.user}>"
    if not outcome.interrupted and not outcome.withdrawn:
        lines = [f"Stopped by {who}; nothing was running."]
    else:
        lines = [f"Stopped by {who}. I will not go on with this."]
    for request, _ in outcome.withdrawn:
        c = request.capsule
        lines.append(f"• `{c.tool}` will not run: its request {c.id} is withdrawn.")
    for request, why in outcome.kept:
        c = request.capsule
        lines.append(f"• `{c.tool}`: its request {c.id} still waits for its approvers ({why}).")
    return "\n".join(lines)


def _as_recorded(rt: Runtime, stop: StopRequest) -> tuple[StopRequest, bool]:
    """``stop`` as it is recorded: with the earlier stop that told the thread, when one
    (another click, not this one delivered again) still applies. Slack leaves the stop
    button until the turn ends, so a double click or two people at once stop it twice,
    and Slack may deliver either again: the confirmation is said once. True when it is
    this stop delivered again: it keeps the time it was first applied (``at``), as it
    applies to what waited then."""
    try:
        previous = read_stop(rt.home, stop.thread)
    except SessionsError:
        return stop, False  # unreadable: this stop replaces it, and says so
    if previous is None or superseded(rt, previous):
        return stop, False
    if previous.slack_ts == stop.slack_ts:
        return previous, True
    told_by = previous.told_by or previous.slack_ts
    # The stop that told, delivered again: its confirmation's id is the same (sent once).
    return stop.model_copy(update={"told_by": None if told_by == stop.slack_ts else told_by}), False


def _confirmation_id(stop: StopRequest) -> str:
    thread = stop.thread
    return f"reply-stop-{thread.channel.lower()}-{thread.thread_ts}-{stop.slack_ts}"


async def stop_thread(
    rt: Runtime, stop: StopRequest, *, running: bool, within: float | None = None
) -> StopOutcome:
    """Apply ``stop``: durable first, then withdraw, wake and confirm (all idempotent, so
    a redelivered stop changes nothing). ``within``: seconds Slack has to answer what
    deciding the withdrawals asks of it (None: as long as it takes)."""
    loop = asyncio.get_running_loop()
    deadline = None if within is None else loop.time() + max(within, 0.0)
    stop, again = _as_recorded(rt, stop)
    if again and rt.outbox.queued(stop.thread, _confirmation_id(stop)):
        # Slack delivered it again (its ack went missing) after it was applied in full:
        # what was asked since is not its to withdraw, and the thread was told once.
        return StopOutcome(stop=stop, interrupted=False, repeated=True)
    record_stop(rt.home, stop)
    withdrawn, kept = await withdraw_waiting(rt, stop, deadline=deadline, asked_by=stop.at)
    woke = rt.stops.fire(stop)
    outcome = StopOutcome(
        stop=stop, interrupted=running or woke, withdrawn=tuple(withdrawn), kept=tuple(kept)
    )
    if stop.told_by is not None and not withdrawn:
        return outcome  # a second click on the stop button: the thread knows it stopped
    thread = stop.thread
    entry = OutboxEntry(
        id=_confirmation_id(stop),
        kind="reply",
        thread=thread,
        created_at=utc_iso(rt.clock.now()),
        seq=Outbox.next_seq(),
        text=_confirmation(outcome),
        session_id=ThreadDir(rt.home, thread).head() or "",
        mentions=(stop.user,),
    )
    if rt.outbox.enqueue(entry):
        rt.outbox_written()
    return outcome
