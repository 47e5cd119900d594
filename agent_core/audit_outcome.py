"""How an approval ended, for the audit export (``audit.py``): what its records show.

A result record says how a claimed call ended, not whether its tool was ever called: a
call claimed and then stopped before the call (the kill switch pulled by another process,
the approved arguments changed on disk) is recorded as an error, and one whose claiming
process died as uncertain. The export read both as "ran: …". Whether it started is in
the claiming session's tickets: ``execute`` writes an intent ticket, synced, before every
tool call, and a torn last line is no ticket (it was never followed by the call). So the
outcome is derived from records every version writes; no record gains a field an older
version could not read.

Outcomes: ``pending``; ``expired, not yet recorded`` (undecided past its deadline, which
no bot's sweep has recorded yet: it can never run; one whose approvals were all in reads
``pending``, since the sweep approves it); ``denied``; ``expired``; ``stale: not run``; ``ran: ok`` / ``ran: error`` (it started); ``started, outcome uncertain`` (it
started, and how it ended is not known: a crash, a timeout, a lost server);
``started, no result recorded``; ``claimed, not started``; ``refused when called: not
run`` (its tool refused it before any of it ran: an MCP server's "unknown tool");
``<status>, not known whether it started`` (the claiming session cannot be read);
``refused at start: not run``;
``approved, waiting for its tool``; ``approved, not run yet``.
"""

from __future__ import annotations

from datetime import datetime

from approvals import ApprovalRequest, Claim, Decision, Policy, expired, quorum_of
from sessions import IntentTicket, SessionFiles, SessionsError, check_session_id

__all__ = ["call_started", "outcome"]


def call_started(request: ApprovalRequest) -> bool | None:
    """Whether the approved call reached its tool (cards, the Home tab, the thread say
    "not run" when it did not); None: it was never claimed, or it is not known."""
    claim = request.claimed()
    return None if claim is None else _started(request, claim)


def _started(request: ApprovalRequest, claim: Claim) -> bool | None:
    """Whether the claiming session wrote the call's intent ticket; None: not known."""
    try:
        directory = request.home.session_dir(check_session_id(claim.session_id))
        if not directory.is_dir():
            return None  # removed (or never there): its tickets are not here to say
        tickets = SessionFiles(directory).read_tickets()
    except (OSError, ValueError, SessionsError):
        return None
    call_id = request.capsule.call_id
    return any(
        isinstance(t, IntentTicket) and (t.approval_id == request.id or t.call_id == call_id)
        for t in tickets
    )


def _quorum_in(request: ApprovalRequest) -> bool:
    """Are its approvals all in, by the quorum it was asked with? A crash came between the
    last vote and the decision, and the sweep approves it, past its deadline or not
    (``approvals.expiry``): its call can still run. (The current policy may ask for more,
    which the audit does not read; then it does expire, and it reads pending until then.)"""
    return len(request.approvals()) >= quorum_of(request, Policy())  # the captured rule


def outcome(
    request: ApprovalRequest, decision: Decision | None, *, now: datetime | None = None
) -> tuple[str, str, str]:
    """(outcome, executed_at: when the call was claimed, finished_at); ``now``: the time
    an undecided request's deadline is judged at (None: not judged)."""
    if decision is None:
        if now is not None and expired(request.capsule, now) and not _quorum_in(request):
            return "expired, not yet recorded", "", ""
        return "pending", "", ""
    if decision.verdict != "approved":
        return decision.verdict, "", ""
    if request.stale() is not None:
        return "stale: not run", "", ""
    claim, result = request.claimed(), request.result()
    if claim is None and result is not None:
        # Written only after a claim: its claim was removed (the seal check says so).
        said = f"ran: {result.status}" if result.ran else "refused when called: not run"
        return said, "", result.at
    if claim is not None:
        started = _started(request, claim)
        finished = result.at if result is not None else ""
        if started is False and (result is None or not result.ok):
            return "claimed, not started", claim.at, finished
        if result is not None and not result.ran:
            return "refused when called: not run", claim.at, finished
        if result is None:
            if started is None:
                return "claimed, no result recorded", claim.at, ""
            return "started, no result recorded", claim.at, ""
        if started is None:
            return f"{result.status}, not known whether it started", claim.at, finished
        if result.status == "uncertain":
            return "started, outcome uncertain", claim.at, finished
        return f"ran: {result.status}", claim.at, finished
    if request.told() is not None:
        # Told, never claimed: it failed its checks when it was to start (the trace says why).
        return "refused at start: not run", "", ""
    if request.deferrals():
        return "approved, waiting for its tool", "", ""
    return "approved, not run yet", "", ""
