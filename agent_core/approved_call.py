"""What an approved call runs, whether it may still start, and what the model is told.

- The call that runs is the one the decision approved: the capsule's arguments, or those
  of the edit it names, verified link by link against their hashes
  (``ApprovalRequest.current(upto=…)``), whatever may have been written after it.
- The second clock: a decision may carry ``valid_until`` (the policy's ``valid_for`` after
  approval). An approved call that has not started by then — the kill switch was on, the
  tool was down, no process ran — never starts: a ``Stale`` record is written (under the
  thread lock, before any claim, so a call is either claimed or stale, never both), the
  card and the thread say so, and the model is told a fresh request is needed.
- Checked again before it runs (I1): the hashes, the requesting session's seal, the tool
  and its version; any mismatch refuses it, with the reason (``refusal_reason``).
- A call claimed by a session a crash cut short ended as that session's result ticket
  says, if it wrote one (``claimed_result``).
- What the model hears beyond the tool's output: who approved and why, and, when an
  approver edited the call, that it ran with changed arguments and which.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from approvals import (
    SYSTEM,
    ApprovalRequest,
    ApprovalsError,
    CurrentCall,
    Decision,
    ExecutionResult,
    HashMismatchError,
    Stale,
    changes,
)
from sessions import ResultTicket, SessionFiles, SessionsError, readable_utc, utc_iso, verify

from .messages import ToolStatus
from .runtime import Runtime
from .session_run import SessionRun

__all__ = [
    "approval_note",
    "approved_arguments",
    "claimed_result",
    "deciders_text",
    "refusal_reason",
    "stale_outcome",
    "tell_frozen",
    "tell_frozen_approvals",
]


def tell_frozen(request: ApprovalRequest, decision: Decision) -> None:
    """Approved while the kill switch is on: the card says Approved and nothing runs, so
    the thread is told why, once (a fixed outbox id). It runs once the switch is off."""
    tool = request.capsule.tool
    text = f"`{tool}` is approved, but the kill switch is on: it waits, and runs once it is off"
    if decision.valid_until:
        until = readable_utc(decision.valid_until)
        text += f" (if that is before {until}; after that, a fresh request is needed)"
    request.queue_post("frozen", text + ".")


def tell_frozen_approvals(rt: Runtime, approval_ids: Iterable[str]) -> None:
    """Under the kill switch, tell each approved call among ``approval_ids`` that waits.

    Driven from disk by the thread's worker, whichever path decided it (a click, the CLI,
    a quorum the sweep completed, a crash between the decision and this): told once,
    however often the thread is woken (``tell_frozen``'s fixed outbox id).
    """
    for approval_id in approval_ids:
        try:
            request = ApprovalRequest.open(rt.home, approval_id, clock=rt.clock)
            decision = request.decision()
            if decision is None or decision.verdict != "approved":
                continue
            if request.claimed() is None and request.stale() is None:
                tell_frozen(request, decision)
        except (SessionsError, ApprovalsError):
            continue  # unreadable: settle reports it once the switch is off
    rt.outbox_written()


def deciders_text(decision: Decision) -> str:
    return ", ".join(f"<@{d}>" if d != SYSTEM else SYSTEM for d in decision.deciders)


def _due(valid_until: str, now: datetime) -> bool:
    return bool(valid_until) and utc_iso(now) > valid_until


async def stale_outcome(
    run: SessionRun, request: ApprovalRequest, decision: Decision
) -> tuple[ToolStatus, str] | None:
    """The outcome of an approval that went stale, or None when the call may start.

    Only for a call that was never claimed: one that started in time is not stale,
    however long it took. Called under the thread lock, before the claim.
    """
    stale = request.stale()
    if stale is None:
        if request.claimed() is not None or not _due(decision.valid_until, run.rt.clock.now()):
            return None
        stale = request.write_stale(
            Stale(
                approval_id=request.id,
                session_id=run.id,
                at=utc_iso(run.rt.clock.now()),
                valid_until=decision.valid_until,
            )
        )
        await run.trace(
            "approved_call_refused",
            {"approval_id": request.id, "reason": "stale", "valid_until": stale.valid_until},
        )
    request.queue_card("stale")
    tool, who = request.capsule.tool, deciders_text(decision)
    request.queue_post(
        "stale",
        f"⌛ The approval of `{tool}` by {who} went stale: the call could not start before "
        f"{readable_utc(stale.valid_until)} and did not run. A fresh request is needed.",
        mentions=tuple(d for d in decision.deciders if d != SYSTEM),
    )
    run.rt.outbox_written()
    return "expired", (
        f"approved by {who} at {decision.at}, but the approval went stale: the call could not "
        f"start before {stale.valid_until} and did not run. A fresh request is needed: ask "
        "again only if it is still needed."
    )


def refusal_reason(run: SessionRun, request: ApprovalRequest, decision: Decision) -> str:
    """Why an approved call must not run, or "" when it may (I1)."""
    capsule = request.capsule
    try:
        request.verify()
        call = request.current()
    except HashMismatchError as exc:
        return str(exc)
    if decision.args_sha256 != call.args_sha256:
        return "the decision approved a different argument hash"
    if decision.edit != call.edit:
        return f"the decision names edit {decision.edit}, not the current one ({call.edit})"
    report = verify(request.session_dir)
    if not report.sealed:
        # A session that asked for approval ended, so it is sealed; no seal means the
        # manifest was removed, and nothing that session holds can be trusted.
        return "the requesting session has no seal (MANIFEST.sha256 is missing)"
    if not report.ok:
        return "the requesting session was modified after it was sealed: " + "; ".join(
            report.problems[:3]
        )
    tool = run.rt.registry.get(capsule.tool)
    if tool is None:
        return f"the tool {capsule.tool!r} is no longer registered"
    if tool.version != call.tool_version:
        return f"the tool changed since it was approved ({call.tool_version} → {tool.version})"
    return ""


def approved_arguments(request: ApprovalRequest, decision: Decision) -> CurrentCall | None:
    """The call the decision approved, read again link by link up to its edit and checked
    against its hash; None if that no longer holds. Never what a later write on disk
    says: another process could have made one since ``refusal_reason`` checked."""
    try:
        call = request.current(upto=decision.edit)
    except HashMismatchError:
        return None
    return call if call.args_sha256 == decision.args_sha256 else None


def claimed_result(run: SessionRun, request: ApprovalRequest) -> tuple[ToolStatus, str] | None:
    """The result ticket the claiming session wrote before a crash cut it short, if any."""
    claimed = request.claimed()
    if claimed is None:
        return None
    directory = run.rt.home.session_dir(claimed.session_id)
    for ticket in SessionFiles(directory).read_tickets():
        if isinstance(ticket, ResultTicket) and ticket.call_id == request.capsule.call_id:
            recorded = request.record_result(
                ExecutionResult(
                    approval_id=request.id,
                    session_id=claimed.session_id,
                    at=claimed.at,
                    ok=ticket.status == "ok",
                    output=ticket.content,
                    uncertain=ticket.status == "uncertain",
                )
            )
            return recorded.status, recorded.output
    return None


def approval_note(request: ApprovalRequest, decision: Decision) -> str:
    """What the model must hear besides the result of a call that ran: the approvers'
    reasons, and whether (and how) an approver changed the arguments before it ran."""
    if decision.verdict != "approved":
        return ""
    parts = []
    reasons = request.reasons(decision)
    if reasons:
        parts.append("Approvers' reasons: " + "; ".join(f"<@{u}>: {r}" for u, r in reasons) + ".")
    if decision.edit:
        edits = request.edits()[: decision.edit]
        editors = ", ".join(dict.fromkeys(f"<@{e.user}>" for e in edits))
        changed = changes(request.capsule.arguments, edits[-1].arguments)
        tool = request.capsule.tool
        if changed:
            parts.append(
                f"The `{tool}` call ran with arguments changed by {editors} before approval, "
                "not as you asked: " + "; ".join(c.describe() for c in changed) + "."
            )
        else:  # a later edit put back what an earlier one changed
            parts.append(
                f"The `{tool}` call's arguments were edited by {editors} before approval and "
                "put back as you asked them: it ran as you asked."
            )
    return " ".join(parts)
