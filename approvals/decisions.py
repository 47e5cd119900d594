"""Recording decisions: authorized at click time, first final decision wins.

The final decision is a create-only file, so across processes exactly one writer
creates it and everyone else reads who won. With a quorum, each person's vote is its
own create-only file, so a double click or a second process counts once.

Ordering is what makes a decision impossible to strand: the thread's work-queue marker is
written *before* the decision, so a process killed right after deciding leaves a thread
that start-up recovery wakes; and the card's outbox entry is queued right after it, and
queued again when the outcome is told, so no crash leaves a decided card with buttons.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sessions import Clock, Home, WorkQueue, check_approval_id, check_slack_id, utc_iso

from .authorize import GroupResolver, authorize
from .capsule import Capsule
from .policy import Policy
from .records import Decision, Verdict, Vote
from .request import ApprovalRequest

__all__ = [
    "SYSTEM",
    "AlreadyDecided",
    "AlreadyVoted",
    "Decided",
    "DecisionResult",
    "Refused",
    "VoteCounted",
    "decide",
    "expire",
    "expired",
    "may_decide",
    "record_decision",
    "withdraw",
]

# The decider recorded when signoff itself decides (an expiry).
SYSTEM = "signoff"


@dataclass(frozen=True)
class Decided:
    """This call made the final decision."""

    capsule: Capsule
    decision: Decision


@dataclass(frozen=True)
class AlreadyDecided:
    """Someone (or the expiry) decided first; the request is unchanged."""

    capsule: Capsule
    decision: Decision


@dataclass(frozen=True)
class VoteCounted:
    capsule: Capsule
    approvals: int
    quorum: int
    voters: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlreadyVoted:
    capsule: Capsule


@dataclass(frozen=True)
class Refused:
    capsule: Capsule
    reason: str


DecisionResult = Decided | AlreadyDecided | VoteCounted | AlreadyVoted | Refused


def _finalize(
    request: ApprovalRequest,
    *,
    verdict: Verdict,
    deciders: tuple[str, ...],
    at: str,
    reason: str = "",
) -> Decided | AlreadyDecided:
    WorkQueue(request.home).mark(request.thread)  # before the decision: see the docstring
    decision = Decision(
        approval_id=request.id,
        verdict=verdict,
        deciders=deciders,
        at=at,
        reason=reason,
        args_sha256=request.capsule.args_sha256,
    )
    existing = request.write_decision(decision)
    request.queue_card("decided")
    if existing is not None:
        return AlreadyDecided(request.capsule, existing)
    return Decided(request.capsule, decision)


def expired(capsule: Capsule, now: datetime) -> bool:
    return utc_iso(now) >= capsule.expires_at


def expire(request: ApprovalRequest, *, now: datetime) -> Decided | AlreadyDecided:
    capsule = request.capsule
    verdict: Verdict = "denied" if capsule.policy.on_expiry == "deny" else "expired"
    return _finalize(
        request,
        verdict=verdict,
        deciders=(SYSTEM,),
        at=utc_iso(now),
        reason=f"no decision before {capsule.expires_at}",
    )


def withdraw(
    request: ApprovalRequest, *, user: str, reason: str, now: datetime
) -> Decided | AlreadyDecided:
    """Deny a request on ``user``'s word without asking the policy: withdrawing is always
    safe (the call does not run), so anyone who may stop the work may withdraw it. The
    first final decision still wins."""
    return _finalize(
        request,
        verdict="denied",
        deciders=(check_slack_id(user),),
        at=utc_iso(now),
        reason=reason,
    )


async def may_decide(
    request: ApprovalRequest, *, user: str, policy: Policy, groups: GroupResolver
) -> str | None:
    """Why ``user`` may not decide this request now, or None when they may."""
    capsule = request.capsule
    return await authorize(
        user=user,
        requester=capsule.askers,
        snapshot=capsule.policy,
        current=policy.rule_for(capsule.tool),
        groups=groups,
    )


async def record_decision(
    request: ApprovalRequest,
    *,
    user: str,
    approve: bool,
    reason: str = "",
    policy: Policy,
    groups: GroupResolver,
    clock: Clock,
) -> DecisionResult:
    """Authorize ``user`` now and record their decision (or vote); the first final one wins."""
    user = check_slack_id(user)
    capsule = request.capsule
    existing = request.decision()
    if existing is not None:
        return AlreadyDecided(capsule, existing)
    now = clock.now()
    if expired(capsule, now):
        result = expire(request, now=now)
        return AlreadyDecided(result.capsule, result.decision)
    refusal = await may_decide(request, user=user, policy=policy, groups=groups)
    if refusal is not None:
        return Refused(capsule, refusal)
    at = utc_iso(now)
    if not approve:
        return _finalize(request, verdict="denied", deciders=(user,), at=at, reason=reason)
    quorum = max(capsule.policy.quorum, policy.rule_for(capsule.tool).quorum)
    if quorum == 1:
        return _finalize(request, verdict="approved", deciders=(user,), at=at, reason=reason)
    if not request.write_vote(
        Vote(approval_id=capsule.id, user=user, approve=True, at=at, reason=reason)
    ):
        return AlreadyVoted(capsule)
    voters = tuple(v.user for v in request.votes() if v.approve)
    if len(voters) < quorum:
        request.queue_card(f"votes-{len(voters)}")
        return VoteCounted(capsule, len(voters), quorum, voters)
    return _finalize(request, verdict="approved", deciders=voters, at=at, reason=reason)


async def decide(
    home: Home,
    approval_id: str,
    *,
    user: str,
    approve: bool,
    reason: str = "",
    policy: Policy,
    groups: GroupResolver,
    clock: Clock,
) -> DecisionResult:
    """``record_decision`` for an approval id; both ids are checked before any look-up."""
    user = check_slack_id(user)
    request = ApprovalRequest.open(home, check_approval_id(approval_id), clock=clock)
    return await record_decision(
        request,
        user=user,
        approve=approve,
        reason=reason,
        policy=policy,
        groups=groups,
        clock=clock,
    )
