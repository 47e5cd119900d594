"""Settling open calls when a child session starts: the heart of resume and recovery.

A new session may inherit calls with no result: gated calls that were decided (run the
stored call from its capsule, or report denied/expired), calls a crash interrupted
(read the recorded result, or report *uncertain* when an intent has no result), and
calls that never started (triaged again as if new). One resolver serves a decision, a
new message and crash recovery alike, so all three behave the same.

Telling an outcome is ordered so that a crash at any point repeats nothing: the result
record, then the told record, then the transcript, then the thread's marker is closed.

What runs is the approval's current call (an approver may have edited it), only while
the approval is valid (the second clock) and only if it passes the checks of I1: all in
``approved_call``. What there is to settle is read from disk by ``unsettled``; an
approved call whose tool cannot run now waits, unspent (``deferral``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from approvals import (
    AlreadyClaimedError,
    ApprovalRequest,
    Capsule,
    Decided,
    Decision,
    ExecutionResult,
    Unchecked,
    expire_due,
    expired,
)
from sessions import failpoint, utc_iso

from .approval_events import decided_when_due
from .approved_call import (
    approval_note,
    approved_arguments,
    away_here,
    claimed_before,
    ended_unrun,
    refusal_reason,
    runs_nothing,
    stale_outcome,
)
from .call_cap import beyond_cap
from .deferral import Deferred, defer
from .executor import execute, run_calls
from .messages import AssistantMessage, EventMessage, ToolResultMessage, ToolStatus
from .mirror import mirror_approval
from .runtime import KillSwitchOn
from .session_run import SessionRun
from .staleness import deciders_text
from .unsettled import Origins, approvals_to_tell, scan_origins

__all__ = ["SettleOutcome", "realize", "settle"]


@dataclass
class SettleOutcome:
    parked: list[Capsule] = field(default_factory=list)
    told: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    # Approved calls whose tool could not run now: not spent, tried again later.
    deferred: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Told:
    status: ToolStatus
    content: str
    # Reasons, and whether an approver changed the arguments: told beside the result.
    note: str = ""


@dataclass(frozen=True)
class _Waiting:
    """Still waiting (for a person, or for the tool): what the call's slot says meanwhile."""

    content: str


async def realize(
    run: SessionRun, request: ApprovalRequest, decision: Decision
) -> tuple[ToolStatus, str]:
    """Turn a final decision into an outcome; an approved call runs here, at most once."""
    capsule, who = request.capsule, deciders_text(decision)
    if decision.verdict == "denied":
        why = f": {decision.reason}" if decision.reason else ""
        return "denied", f"denied by {who} at {decision.at}{why}. Do not retry this call."
    if decision.verdict == "expired":
        return "expired", (
            f"no decision before {capsule.expires_at}; the request expired and the call did not "
            "run. Ask again only if it is still needed."
        )
    recorded = request.result()
    if recorded is not None:
        return recorded.status, recorded.output  # it ran: say how it ended, whatever else
    if run.rt.killed():
        # Frozen, not spent: the approval stays unclaimed and runs once the switch is off.
        raise KillSwitchOn
    stale = await stale_outcome(run, request, decision)
    if stale is not None:
        return stale  # approved too long ago to start now: never run
    tool = run.rt.registry.get(capsule.tool)
    if tool is not None:
        # Asked before the checks: an MCP tool whose server was down at start-up is only
        # listed (its version known) once the server answers.
        unavailable = await tool.unavailable()
        if unavailable is not None:
            raise Deferred(unavailable)
    away = away_here(run, request)
    if away is not None:  # not spent here: the bot, whose tools these are not, runs it
        raise Deferred(away)  # "… It runs once the tool is available again": the bot has it
    refusal = refusal_reason(run, request, decision)
    if refusal:
        await run.trace("approved_call_refused", {"approval_id": capsule.id, "reason": refusal})
        return "error", f"approved by {who} but not run: {refusal}. Ask again if still needed."
    # Again, with nothing awaited between them and the claim: asking the tool above (an
    # MCP server reconnecting) may have outlasted the deadline, or seen the switch pulled.
    if run.rt.killed():
        raise KillSwitchOn
    stale = await stale_outcome(run, request, decision)
    if stale is not None:
        return stale
    try:
        request.claim(by_session=run.id, at=utc_iso(run.rt.clock.now()))
        failpoint("resume.after_claim")
    except AlreadyClaimedError:
        return claimed_before(run, request, who)
    if request.deferrals():  # its card (and Home) said it waits for its tool: no longer
        request.queue_card("claimed")
    tool = run.rt.registry.get(capsule.tool)
    assert tool is not None  # checked by refusal_reason
    call = approved_arguments(request, decision)
    if call is None:  # claimed, so recorded: the card and the thread say it did not run
        text = (
            f"approved by {who} but not run: the approved arguments changed on disk after "
            "they were checked. Ask again if still needed."
        )
        return ended_unrun(run, request, text, uncertain=False)
    executed = await execute(
        run,
        tool,
        capsule.call_id,
        call.arguments,
        approval_id=capsule.id,
        tool_version=call.tool_version,
    )
    failpoint("resume.after_tool_run")
    result = executed.message
    request.record_result(
        ExecutionResult(
            approval_id=capsule.id,
            session_id=run.id,
            at=utc_iso(run.rt.clock.now()),
            ok=result.status == "ok",
            output=result.content,
            uncertain=result.status == "uncertain",
            ran=executed.ran,
        )
    )
    failpoint("resume.after_result_record")
    return result.status, result.content


async def _gated(run: SessionRun, request: ApprovalRequest, out: SettleOutcome) -> _Told | _Waiting:
    """The outcome to tell, or what the call's slot says while it still waits."""
    now = run.rt.clock.now()
    decision = request.decision()
    if decision is None and expired(request.capsule, now):
        rt = run.rt
        due = await expire_due(
            request,
            now=now,
            policy=rt.policy,
            groups=rt.groups,
            runs_nothing=runs_nothing(rt, request),
        )
        if not isinstance(due, Unchecked):  # else it waits, as for the sweep's next pass
            decision = due.decision
        if isinstance(due, Decided):  # this turn wrote it: no sweep will find it
            rt.observer.emit(decided_when_due(request, decision=due.decision))
    if decision is None:
        out.waiting.append(request.id)
        request.reopen()  # a crash may have come between the capsule and its card
        await mirror_approval(run.rt, request)
        return _Waiting(f"waiting for approval {request.id}; the call has not run.")
    await run.trace(
        "decision_applied",
        {
            "approval_id": request.id,
            "verdict": decision.verdict,
            "by": list(decision.deciders),
            "reason": decision.reason,
            "reasons": [{"user": u, "reason": r} for u, r in request.reasons(decision)],
            "args_sha256": decision.args_sha256,
            "original_sha256": decision.original_sha256 or request.capsule.args_sha256,
            "edit": decision.edit,
            "valid_until": decision.valid_until,
            # Once told, the records are sealed (``approvals.sealing``): this says so, so
            # the audit flags a missing seal, not taken for an older signoff's (none).
            "seal_follows": True,
        },
    )
    try:
        status, content = await realize(run, request, decision)
    except Deferred as exc:
        text = await defer(
            run, request, decision=decision, reason=exc.reason, deferred=out.deferred
        )
        return _Waiting(text)
    request.mark_told(session_id=run.id, at=utc_iso(run.rt.clock.now()))
    out.told.append(request.id)
    note = approval_note(request, decision) if request.result() is not None else ""
    return _Told(status, content, note)


async def _tell_late(run: SessionRun, request: ApprovalRequest, out: SettleOutcome) -> None:
    """An outcome that arrives after the conversation moved on is told as an event."""
    outcome = await _gated(run, request, out)
    if isinstance(outcome, _Waiting):
        return  # its slot already says it waits
    status, content = outcome.status, outcome.content
    capsule = request.capsule
    note = f"\n{outcome.note}" if outcome.note else ""
    await run.append(
        EventMessage(
            text=f"Outcome of the earlier `{capsule.tool}` request ({capsule.id}): {status}: "
            f"{content}{note}",
            approval_id=capsule.id,
            call_id=capsule.call_id,
            status=status,
            args_sha256=capsule.args_sha256,
        )
    )
    request.finish()
    await mirror_approval(run.rt, request)


async def settle(run: SessionRun) -> SettleOutcome:
    out = SettleOutcome()
    open_calls = run.unresolved_calls()
    origins = (
        scan_origins(run, wanted={call_id for _, call_id in open_calls})
        if open_calls
        else Origins()
    )
    not_started: list[tuple[AssistantMessage, str]] = []
    for assistant, call_id in open_calls:
        call = next(c for c in assistant.tool_calls if c.id == call_id)
        request = origins.approvals.get(call_id)
        if request is not None:
            outcome = await _gated(run, request, out)
            told = isinstance(outcome, _Told)
            status: ToolStatus = outcome.status if isinstance(outcome, _Told) else "pending"
            content = outcome.content
            await run.append(
                ToolResultMessage(
                    call_id=call_id,
                    name=call.name,
                    content=content,
                    status=status,
                    args_sha256=request.capsule.args_sha256,
                    approval_id=request.id,
                )
            )
            if isinstance(outcome, _Told) and outcome.note:
                await run.append(
                    EventMessage(text=outcome.note, approval_id=request.id, call_id=call_id)
                )
            if told:
                request.finish()
                await mirror_approval(run.rt, request)
        elif call_id in origins.results:
            ticket = origins.results[call_id]
            status = ticket.status
            await run.append(
                ToolResultMessage(
                    call_id=call_id, name=call.name, content=ticket.content, status=status
                )
            )
        elif call_id in origins.intents:
            await run.append(
                ToolResultMessage(
                    call_id=call_id,
                    name=call.name,
                    status="uncertain",
                    content="the session crashed while this call ran; it may or may not have "
                    "taken effect and is not re-run automatically.",
                )
            )
        else:
            not_started.append((assistant, call_id))
    if not_started:
        calls = tuple(c for a, cid in not_started for c in a.tool_calls if c.id == cid)
        # Over the cap by their place in the reply that asked them, as when it was new.
        cap = run.rt.budgets.max_calls_per_reply
        capped = {cid: t for a, cid in not_started if (t := beyond_cap(a, cap).get(cid))}
        out.parked.extend(await run_calls(run, AssistantMessage(tool_calls=calls), capped=capped))
    handled = {request.id for request in origins.approvals.values()}
    for approval_id in approvals_to_tell(run):
        if approval_id not in handled:
            request = ApprovalRequest.open(run.rt.home, approval_id, clock=run.rt.clock)
            await _tell_late(run, request, out)
    return out
