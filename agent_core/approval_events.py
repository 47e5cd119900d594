"""The observer's events for a vote, a final decision and an expiry (``observe``).

Built from the approval's capsule and its recorded decision: which request, who decided,
and how long it waited. The engine emits them after a decision or an edit, a stop and
the sweep; operators' metrics and logs hang on them.
"""

from __future__ import annotations

from typing import Literal

from approvals import ApprovalRequest, Decision
from sessions import from_utc_iso

from .observe import ApprovalExpired, DecisionRecorded, VoteRecorded

__all__ = [
    "approval_expired",
    "decided_when_due",
    "decision_recorded",
    "quorum_decided",
    "vote_recorded",
]


def _waited(request: ApprovalRequest, decision: Decision) -> float:
    asked = from_utc_iso(request.capsule.created_at)
    decided = from_utc_iso(decision.at)
    return max(0.0, (decided - asked).total_seconds())


def decision_recorded(
    request: ApprovalRequest, *, user: str, decision: Decision
) -> DecisionRecorded:
    c = request.capsule
    verdict: Literal["approved", "denied"] = (
        "approved" if decision.verdict == "approved" else "denied"
    )
    return DecisionRecorded(
        approval_id=c.id,
        session_id=c.session_id,
        thread=c.thread,
        tool=c.tool,
        user=user,
        verdict=verdict,
        wait_seconds=_waited(request, decision),
    )


def quorum_decided(request: ApprovalRequest, *, decision: Decision) -> DecisionRecorded:
    """A quorum the sweep completed (its last vote's process died before the decision):
    reported as decided by the vote that completed it."""
    return decision_recorded(request, user=decision.deciders[-1], decision=decision)


def decided_when_due(
    request: ApprovalRequest, *, decision: Decision
) -> DecisionRecorded | ApprovalExpired:
    """What a decision written past the deadline was (``approvals.expire_due``): a quorum
    complete in time, approved, or the expiry."""
    if decision.verdict == "approved":
        return quorum_decided(request, decision=decision)
    return approval_expired(request, decision=decision)


def approval_expired(request: ApprovalRequest, *, decision: Decision) -> ApprovalExpired:
    c = request.capsule
    return ApprovalExpired(
        approval_id=c.id,
        session_id=c.session_id,
        thread=c.thread,
        tool=c.tool,
        wait_seconds=_waited(request, decision),
    )


def vote_recorded(request: ApprovalRequest, *, user: str) -> VoteRecorded:
    c = request.capsule
    return VoteRecorded(
        approval_id=c.id, session_id=c.session_id, thread=c.thread, tool=c.tool, user=user
    )
