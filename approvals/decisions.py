"""Recording decisions: authorized at click time, first final decision wins.

The final decision is a create-only file, so across processes exactly one writer
creates it and everyone else reads who won. With a quorum, each person's vote is its
own create-only file, so a double click or a second process counts once.

Ordering is what makes a decision impossible to strand: the thread's work-queue marker is
written *before* the decision, so a process killed right after deciding leaves a thread
that start-up recovery wakes; and the card's outbox entry is queued right after it, and
queued again when the outcome is told, so no crash leaves a decided card with buttons.

What a click must pass first (who may decide, a required reason, the quorum, the
arguments the person saw, the deadline) is asked of ``decision_checks``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sessions import Clock, Home, check_approval_id, check_slack_id, coordination_for, utc_iso

from .authorize import GroupResolver, Unchecked
from .capsule import Capsule
from .decision_checks import (
    expired,
    may_decide,
    no_longer_allowed,
    quorum_of,
    reason_missing,
    seen_refusal,
    valid_for_of,
)
from .governed import CurrentCall, after
from .policy import Policy
from .records import SYSTEM, Decision, Verdict, Vote
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
    "finalize",
    "record_decision",
    "settled",
    "votes_why",
    "withdraw",
]


@dataclass(frozen=True)
class Decided:
    """This call made the final decision."""

    capsule: Capsule
    decision: Decision


@dataclass(frozen=True)
class AlreadyDecided:
    """Someone (or the expiry) decided first; the request is unchanged.

    ``expired_now``: the expiry was due and this call wrote it, before a sweep did (what
    counts expiries must hear of it here: no sweep will find it)."""

    capsule: Capsule
    decision: Decision
    expired_now: bool = False


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


def finalize(
    request: ApprovalRequest,
    *,
    verdict: Verdict,
    deciders: tuple[str, ...],
    at: str,
    reason: str = "",
    call: CurrentCall | None = None,
    policy: Policy | None = None,
) -> Decided | AlreadyDecided:
    """Write the final decision (the first one wins) for the call as it is now."""
    # Before the decision: see the docstring.
    coordination_for(request.home).work_queue.mark(request.thread)
    capsule = request.capsule
    call = call or request.current()
    valid_until = ""
    if verdict == "approved" and (window := valid_for_of(request, policy)) is not None:
        valid_until = after(at, window)
    decision = Decision(
        approval_id=request.id,
        verdict=verdict,
        deciders=deciders,
        at=at,
        reason=reason,
        args_sha256=call.args_sha256,
        original_sha256=capsule.args_sha256,
        edit=call.edit,
        valid_until=valid_until,
    )
    existing = request.write_decision(decision)
    request.queue_card("decided")
    if existing is not None:
        return AlreadyDecided(request.capsule, existing)
    return Decided(request.capsule, decision)


def complete_quorum(
    request: ApprovalRequest, *, policy: Policy, call: CurrentCall | None = None
) -> Decided | AlreadyDecided | None:
    """Decide a request whose approvals are all in but whose decision a crash prevented
    (None while they are not). Approved when the last approval came (a vote, or the edit
    itself), not when a sweep found it: valid_for counts from then, so a call a crash held
    up goes stale, and a quorum complete before the deadline stands after it."""
    call = call or request.current()
    voters = request.approvals(call)
    if not voters or len(voters) < quorum_of(request, policy):
        return None
    approvals = []
    if call.edit:
        edit = request.edits()[call.edit - 1]
        approvals.append((edit.at, edit.reason))
    approvals += [(v.at, v.reason) for v in request.votes(call.edit) if v.user in voters]
    last_at, reason = sorted(approvals, key=lambda a: a[0])[-1]
    return finalize(
        request,
        verdict="approved",
        deciders=voters,
        at=last_at,
        reason=reason,
        call=call,
        policy=policy,
    )


def settled(request: ApprovalRequest, now: datetime) -> AlreadyDecided | None:
    """The decision already made (or the expiry due ``now``), or None while it is open."""
    existing = request.decision()
    if existing is not None:
        return AlreadyDecided(request.capsule, existing)
    if expired(request.capsule, now):
        result = expire(request, now=now)
        return AlreadyDecided(
            result.capsule, result.decision, expired_now=isinstance(result, Decided)
        )
    return None


def expire(request: ApprovalRequest, *, now: datetime) -> Decided | AlreadyDecided:
    capsule = request.capsule
    verdict: Verdict = "denied" if capsule.policy.on_expiry == "deny" else "expired"
    return finalize(
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
    return finalize(
        request,
        verdict="denied",
        deciders=(check_slack_id(user),),
        at=utc_iso(now),
        reason=reason,
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
    seen_sha256: str | None = None,
) -> DecisionResult:
    """Authorize ``user`` now and record their decision (or vote); the first final one wins.

    An approval counts for the arguments the person saw (``seen_sha256``) and only if those
    are still the current ones: an edit resets a quorum.
    """
    user = check_slack_id(user)
    capsule = request.capsule
    now = clock.now()
    if (done := settled(request, now)) is not None:
        return done
    refusal = await may_decide(request, user=user, policy=policy, groups=groups)
    refusal = refusal or reason_missing(request, policy, reason)
    if refusal is not None:
        return Refused(capsule, refusal)
    gone = (
        await no_longer_allowed(request, user=user, policy=policy, groups=groups) if approve else ()
    )
    if isinstance(gone, Unchecked):
        return Refused(capsule, gone)
    # Looking up groups waited on Slack: a decision may have come meanwhile (a vote
    # written after it was told "counted"). Nothing is awaited from here on.
    if (existing := request.decision()) is not None:
        return AlreadyDecided(capsule, existing)
    at = utc_iso(now)
    call = request.current()
    if not approve:
        return finalize(
            request, verdict="denied", deciders=(user,), at=at, reason=reason, call=call
        )
    refusal = seen_refusal(request, call, seen_sha256)
    if refusal is not None:
        return Refused(capsule, refusal)
    quorum = quorum_of(request, policy)
    so_far = request.approvals(call)
    if user in so_far:
        return AlreadyVoted(capsule)
    gone = tuple(voter for voter in gone if voter in so_far)  # an edit meanwhile reset them
    so_far = tuple(voter for voter in so_far if voter not in gone)
    if quorum == 1:
        return finalize(
            request,
            verdict="approved",
            deciders=(user,),
            at=at,
            reason=reason,
            call=call,
            policy=policy,
        )
    if len(so_far) + 1 >= quorum:
        request.arm_timer(at)  # this vote completes it: a crash before the decision is swept
    vote = Vote(
        approval_id=capsule.id,
        user=user,
        approve=True,
        at=at,
        reason=reason,
        args_sha256=call.args_sha256,
        discounted=gone,
    )
    if not request.write_vote(vote, edit=call.edit):
        return AlreadyVoted(capsule)
    voters = request.approvals(call)
    if len(voters) < quorum:
        request.queue_card(votes_why(call.edit, request.approvals_cast(call)))
        return VoteCounted(capsule, len(voters), quorum, voters)
    # Again, now that the vote is on disk: a sweep may have taken the marker above before
    # it was, and dropped it; a crash before the decision would then leave none.
    request.arm_timer(at)
    return finalize(
        request,
        verdict="approved",
        deciders=voters,
        at=at,
        reason=reason,
        call=call,
        policy=policy,
    )


def votes_why(edit: int, count: int) -> str:
    """The card update queued for a vote: one per count, per edit."""
    return f"votes-{count}" if edit == 0 else f"edit{edit}-votes-{count}"


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
    seen_sha256: str | None = None,
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
        seen_sha256=seen_sha256,
    )
