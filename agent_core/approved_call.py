"""What an approved call runs, whether it may still start, and what the model is told.

- The call that runs is the one the decision approved: the capsule's arguments, or those
  of the edit it names, verified link by link against their hashes
  (``ApprovalRequest.current(upto=…)``), whatever may have been written after it.
- The second clock: a decision may carry ``valid_until`` (the policy's ``valid_for`` after
  approval). An approved call that has not started by then — the kill switch was on, the
  tool was down, no process ran — never starts: a ``Stale`` record is written (under the
  thread lock, before any claim, so a call is either claimed or stale, never both), the
  card and the thread say so, and the model is told a fresh request is needed
  (``staleness``, which also says it while the kill switch is on).
- Checked again before it runs (I1): the hashes, the requesting session's seal, the tool
  and its version; any mismatch refuses it, with the reason (``refusal_reason``).
- A call claimed by a session a crash cut short ended as that session's result ticket
  says, if it wrote one (``claimed_result``); else it did not run (no intent ticket) or
  its outcome is uncertain, and it never runs again (``claimed_before``).
- What the model hears beyond the tool's output: who approved and why, and, when an
  approver edited the call, that it ran with changed arguments and which.
"""

from __future__ import annotations

from approvals import (
    ApprovalRequest,
    CannotRun,
    CurrentCall,
    Decision,
    ExecutionResult,
    HashMismatchError,
    Unchecked,
    changes,
)
from approvals.quorum_completion import tell_runs_nothing as queue_runs_nothing
from sessions import ResultTicket, SessionFiles, utc_iso, verify

from .audit_outcome import call_started
from .messages import ToolStatus
from .runtime import Runtime
from .session_run import SessionRun
from .staleness import deciders_text, record_stale, tell_stale
from .tools.base import UNLISTED

__all__ = [
    "approval_note",
    "approved_arguments",
    "away_here",
    "claimed_before",
    "claimed_result",
    "ended_unrun",
    "refusal_reason",
    "runs_nothing",
    "stale_outcome",
    "tell_runs_nothing",
]


async def stale_outcome(
    run: SessionRun, request: ApprovalRequest, decision: Decision
) -> tuple[ToolStatus, str] | None:
    """The outcome of an approval that went stale, or None when the call may start.

    Only for a call that was never claimed: one that started in time is not stale,
    however long it took. Called under the thread lock, before the claim. The card and
    the thread are told (again: a no-op once queued), and the trace says it in the
    session that found it stale, or, for one the worker found under the kill switch (no
    session ran), in this one, which tells the model.
    """
    found = record_stale(run.rt, request, decision, session_id=run.id)
    if found is None:
        return None
    stale, written = found
    if written or not stale.session_id:
        await run.trace(
            "approved_call_refused",
            {"approval_id": request.id, "reason": "stale", "valid_until": stale.valid_until},
        )
    tell_stale(run.rt, request, decision, stale)
    return "expired", (
        f"approved by {deciders_text(decision)} at {decision.at}, but the approval went stale: "
        f"the call could not start before {stale.valid_until} and did not run. A fresh request "
        "is needed: ask again only if it is still needed."
    )


def away_here(run: SessionRun, request: ApprovalRequest) -> str | None:
    """Why this process cannot run the approved call when its tools may not be the bot's
    (``Runtime.tools_elsewhere``: a terminal): the tool is not among them, or at another
    version. None when it can, or when this process's tools are the bot's (then such a
    call is refused: ``refusal_reason``)."""
    if not run.rt.tools_elsewhere:
        return None
    try:
        call = request.current()
    except HashMismatchError:
        return None  # refused, whoever's tools these are
    tool = run.rt.registry.get(request.capsule.tool)
    if tool is None:
        return f"the tool {request.capsule.tool!r} is not among this terminal's tools"
    if tool.version != call.tool_version:
        return f"the tool {request.capsule.tool!r} has another version among this terminal's tools"
    return None


def runs_nothing(rt: Runtime, request: ApprovalRequest) -> CannotRun | Unchecked | None:
    """Why approving ``request`` here would run nothing, or None: its tool left this
    process's tools, or is there at another version (its schema or settings changed),
    which ``refusal_reason`` would refuse at the start, after the approval was spent and
    the card said Approved. An MCP server down lists nothing (``UNLISTED``): away, not
    changed, and the approved call waits for it.

    A terminal's tools need not be the bot's (``Runtime.tools_elsewhere``): one that has
    the tool runs the call itself; one that lacks it cannot tell whether the bot has it,
    so it is Unchecked, and a quorum is left to the bot's sweep (as one of group approvers
    is without Slack), neither approved for a bot that may lack the tool too nor said to
    run nothing where the bot has it. A terminal's click is checked before
    (``bot/cli_tool_check.py``)."""
    try:
        call = request.current()
    except HashMismatchError:
        return None  # the decision refuses it, and says why
    tool = rt.registry.get(call.tool)
    if tool is not None and tool.version in (call.tool_version, UNLISTED):
        return None
    if rt.tools_elsewhere:
        return Unchecked(
            f"this command lacks the tool {call.tool} at the version asked for, so it "
            "cannot tell whether approving this call would run anything: the bot decides it"
        )
    if tool is None:
        what = "is no longer among signoff's tools"
    else:
        what = "changed since it was asked for (its arguments or its settings)"
    return CannotRun(
        f"the tool {call.tool} {what}, so approving this call would run nothing; "
        "deny it, and ask again if it is still needed"
    )


def tell_runs_nothing(rt: Runtime, request: ApprovalRequest, why: CannotRun) -> None:
    """The card's thread is told, once, that approving it would run nothing
    (``approvals.quorum_completion.tell_runs_nothing``, which a sweep tells it by too)."""
    queue_runs_nothing(request, why)
    rt.outbox_written()


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


def claimed_before(run: SessionRun, request: ApprovalRequest, who: str) -> tuple[ToolStatus, str]:
    """The outcome of a call an earlier session claimed and a crash cut short, recorded:
    its result ticket's, else not run (no intent ticket, which is synced before the tool
    is called) or uncertain. Never run again: whoever approved it decides that."""
    finished = claimed_result(run, request)
    if finished is not None:
        return finished
    if call_started(request) is False:
        text = (
            f"approved by {who}, but not run: it was claimed once before, and a crash "
            "came before its tool was called. It is not re-run automatically: ask again "
            "if still needed."
        )
        return ended_unrun(run, request, text, uncertain=False)
    text = (
        f"approved by {who}; the call was started once before and its result was not "
        "recorded (a crash). It is not re-run automatically: check the system first."
    )
    return ended_unrun(run, request, text, uncertain=True)


def ended_unrun(
    run: SessionRun, request: ApprovalRequest, text: str, *, uncertain: bool
) -> tuple[ToolStatus, str]:
    """A claimed call that did not run to a result, recorded as how it ended, so the card
    says it too (not only the thread)."""
    recorded = request.record_result(
        ExecutionResult(
            approval_id=request.id,
            session_id=run.id,
            at=utc_iso(run.rt.clock.now()),
            ok=False,
            output=text,
            uncertain=uncertain,
        )
    )
    return recorded.status, recorded.output


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
