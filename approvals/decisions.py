"""Recording decisions: authorized at click time, first final decision wins.

A denial, a withdrawal or an expiry is final at once; an approval is counted by
``quorum`` (one vote of several, or the decision itself). What either comes to, and the
write of the final decision, are ``outcomes``; what a click must pass first (who may
decide, a required reason, the quorum, the arguments the person saw, the deadline) is
asked of ``decision_checks``.
"""

from __future__ import annotations

from datetime import datetime

from sessions import (
    Clock,
    Home,
    LockBusyError,
    busy_wait,
    check_approval_id,
    check_slack_id,
    utc_iso,
)

from .authorize import GroupResolver, Unchecked
from .decision_checks import expired, may_decide, reason_missing
from .origin import Origin
from .outcomes import (
    AlreadyDecided,
    AlreadyVoted,
    CannotRun,
    Decided,
    DecisionResult,
    Refused,
    VoteCounted,
    finalize,
)
from .policy import Policy
from .quorum import HELD, record_approval, records_locked, votes_why
from .quorum_completion import SWEEP_WAIT, complete_or, complete_quorum
from .records import SYSTEM, Verdict
from .request import ApprovalRequest

__all__ = [
    "SYSTEM",
    "AlreadyDecided",
    "AlreadyVoted",
    "Decided",
    "DecisionResult",
    "Refused",
    "VoteCounted",
    "complete_quorum",
    "decide",
    "expire_due",
    "finalize",
    "record_decision",
    "settled",
    "votes_why",
    "withdraw",
]


async def settled(
    request: ApprovalRequest,
    now: datetime,
    *,
    policy: Policy,
    groups: GroupResolver,
    runs_nothing: CannotRun | Unchecked | None = None,
) -> AlreadyDecided | Refused | None:
    """The decision already made (or the expiry due ``now``), or None while it is open.

    Past the deadline, a quorum whose votes were all in before it (a crash came before
    the decision) stands, as the expiry sweep would decide: which came first, a click or
    the sweep, must not change the outcome. While Slack cannot say whether its approvers
    may still decide, neither: the person is asked to try again."""
    existing = request.decision()
    if existing is not None:
        return AlreadyDecided(request.capsule, existing)
    if expired(request.capsule, now):
        due = await expire_due(
            request,
            now=now,
            policy=policy,
            groups=groups,
            wait=busy_wait(),
            runs_nothing=runs_nothing,
        )
        if isinstance(due, Unchecked):
            return Refused(request.capsule, due)
        if isinstance(due, AlreadyDecided):
            return due
        if due.decision.verdict == "approved":
            return AlreadyDecided(due.capsule, due.decision, completed_now=True)
        return AlreadyDecided(due.capsule, due.decision, expired_now=True)
    return None


async def expire_due(
    request: ApprovalRequest,
    *,
    now: datetime,
    policy: Policy,
    groups: GroupResolver,
    wait: float = SWEEP_WAIT,
    runs_nothing: CannotRun | Unchecked | None = None,
) -> Decided | AlreadyDecided | Unchecked:
    """Decide a request past its deadline: approved when its approvals were a quorum in
    time (a crash came before the decision), else expired (or denied, by its policy).
    Unchecked while Slack cannot say who may still approve, or while a vote is being
    recorded past ``wait`` seconds: ask again later.

    The expiry is written under the lock votes are counted under, in the same hold as
    the quorum was found short, so a vote lands before both (and was truly counted) or
    finds the request decided; never between them, told it counted on a request its card
    shows expired. A quorum whose call would run nothing (``runs_nothing``) expires too.
    """
    return await complete_or(
        request,
        policy=policy,
        groups=groups,
        wait=wait,
        short=lambda: _expire(request, now=now),
        runs_nothing=runs_nothing,
    )


def _expire(request: ApprovalRequest, *, now: datetime) -> Decided | AlreadyDecided:
    capsule = request.capsule
    verdict: Verdict = "denied" if capsule.policy.on_expiry == "deny" else "expired"
    return finalize(
        request,
        verdict=verdict,
        deciders=(SYSTEM,),
        at=utc_iso(now),
        reason=f"no decision before {capsule.expires_at}",
    )


async def withdraw(
    request: ApprovalRequest, *, user: str, reason: str, now: datetime, wait: float | None = None
) -> Decided | AlreadyDecided | Refused:
    """Deny a request on ``user``'s word without asking the policy: withdrawing is always
    safe (the call does not run), so anyone who may stop the work may withdraw it. The
    first final decision still wins. Under the lock votes are written under (``wait``
    seconds for it, ``busy_wait()`` by default; Refused past them), so a vote written just
    before is told as counted, never one written after."""
    deciders = (check_slack_id(user),)
    try:
        async with records_locked(request, wait=wait):
            return finalize(
                request, verdict="denied", deciders=deciders, at=utc_iso(now), reason=reason
            )
    except LockBusyError:
        return Refused(request.capsule, HELD)


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
    origin: Origin | None = None,
    runs_nothing: CannotRun | Unchecked | None = None,
) -> DecisionResult:
    """Authorize ``user`` now and record their decision (or vote); the first final one wins.
    ``runs_nothing``: why approving would run nothing (the tool left the configuration),
    told to an approver in place of their approval; a deny is recorded as ever.

    An approval counts for the arguments the person saw (``seen_sha256``) and only if those
    are still the current ones: an edit resets a quorum.
    """
    user = check_slack_id(user)
    capsule = request.capsule
    now = clock.now()
    done = await settled(request, now, policy=policy, groups=groups, runs_nothing=runs_nothing)
    if done is not None:
        return done
    refusal = await may_decide(request, user=user, policy=policy, groups=groups, origin=origin)
    if approve and runs_nothing is not None:  # before its reason: none would help
        refusal = refusal or runs_nothing
    refusal = refusal or reason_missing(request, policy, reason)
    if refusal is not None:
        return Refused(capsule, refusal)
    # Looking up groups waited on Slack: a decision may have come meanwhile.
    if not approve:
        # Under the lock votes and edits are written under, across processes: one written
        # just before is told as counted, never one written after the deny.
        try:
            async with records_locked(request):
                if (existing := request.decision()) is not None:
                    return AlreadyDecided(capsule, existing)
                at = utc_iso(now)
                return finalize(request, verdict="denied", deciders=(user,), at=at, reason=reason)
        except LockBusyError:
            return Refused(capsule, HELD)
    return await record_approval(
        request,
        user=user,
        reason=reason,
        at=utc_iso(now),
        policy=policy,
        groups=groups,
        seen_sha256=seen_sha256,
        origin=origin,
    )


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
    origin: Origin | None = None,
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
        origin=origin,
    )
