"""What a click must pass before it counts, judged against both rules of a request.

A request keeps the policy rule it was captured under, and the policy may have changed
since; each check asks both, so tightening a policy applies to requests already waiting:
who may decide (both must allow the person), whether a reason is needed (either may ask
for one), how many approvals it takes (the larger quorum). An approval counts only for
the arguments the person saw, and nothing counts past the deadline. Recording a decision
(``decisions``) or an edit (``edits``), the governance timers and the engine all ask
here, so each question has one answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from sessions import utc_iso

from .authorize import GroupResolver, Unchecked, authorize, what_helps
from .capsule import Capsule
from .errors import MembershipUnknown
from .governed import CurrentCall
from .origin import Origin
from .policy import Policy, PolicyRule
from .reachable import short_of_quorum
from .request import ApprovalRequest

__all__ = [
    "approvers_of",
    "escalated_of",
    "escalation_to_come",
    "expired",
    "may_decide",
    "no_longer_allowed",
    "out_of_reach",
    "quorum_of",
    "reason_missing",
    "seen_refusal",
    "self_approval_of",
]


def expired(capsule: Capsule, now: datetime) -> bool:
    return utc_iso(now) >= capsule.expires_at


async def may_decide(
    request: ApprovalRequest,
    *,
    user: str,
    policy: Policy,
    groups: GroupResolver,
    origin: Origin | None = None,
) -> str | None:
    """Why ``user`` may not decide this request now, or None when they may (``origin``:
    the organization their click came from; None: an operator's terminal)."""
    capsule = request.capsule
    return await authorize(
        user=user,
        requester=capsule.askers,
        snapshot=capsule.policy,
        current=policy.rule_for(capsule.tool),
        groups=groups,
        escalated=request.escalated_approvers(),
        origin=origin,
    )


async def no_longer_allowed(
    request: ApprovalRequest,
    *,
    voters: list[str],
    policy: Policy,
    groups: GroupResolver,
    origins: Mapping[str, Origin] | None = None,
) -> tuple[str, ...] | Unchecked:
    """Which of ``voters``, who approved, may no longer decide (they left the approver
    group or the card's private channel, the policy dropped them, or opened it to
    ``anyone`` while they voted from another organization: ``origins``, as their votes
    recorded it): asked when an approval
    may complete a quorum, as a quorum is of approvers the rules allow when it completes
    (``quorum``). Unchecked when Slack could not say: then nothing is recorded (fail
    closed)."""
    gone = []
    card = request.card()
    for voter in voters:
        origin = (origins or {}).get(voter)
        refusal = await may_decide(request, user=voter, policy=policy, groups=groups, origin=origin)
        if isinstance(refusal, Unchecked):
            return refusal
        if refusal is None and card is not None:
            # Removed from a private channel since, they could no longer click its card.
            try:
                if not await groups.can_see(card.channel, voter):
                    refusal = "no longer in the card's channel"
            except MembershipUnknown as exc:
                return Unchecked(
                    "signoff could not check with Slack who is in the card's channel"
                    + what_helps(exc.refused),
                    refused=exc.refused,
                )
        if refusal is not None:
            gone.append(voter)
    return tuple(gone)


def approvers_of(request: ApprovalRequest, policy: Policy) -> tuple[str, ...] | None:
    """The users and groups who may decide under both the captured rule and the rule in
    force (a decider must pass both), as far as ids tell: named by one rule and not ruled
    out by the other (it names them too, is open, or, for a user, names groups they may be
    in); None when both are open to anyone. Escalated approvers come on top."""
    rules = (request.capsule.policy, policy.rule_for(request.capsule.tool))
    if all(rule.open_to_anyone for rule in rules):
        return None
    kept: list[str] = []
    for rule, other in (rules, rules[::-1]):
        named = {*other.approver_users, *other.approver_groups}
        kept += [
            u
            for u in rule.approver_users
            if other.open_to_anyone or u in named or other.approver_groups
        ]
        kept += [g for g in rule.approver_groups if other.open_to_anyone or g in named]
    return tuple(dict.fromkeys(kept))


def escalated_of(request: ApprovalRequest, policy: Policy) -> tuple[str, ...]:
    """The approvers an escalation added to ``request`` whom the rule in force still
    escalates to: one the policy has since dropped from ``escalate_to`` (off the on-call
    rota) no longer decides as escalated, as tightening applies to requests waiting
    (``authorize`` judges it the same way; this is who may be named and pinged)."""
    now = policy.rule_for(request.capsule.tool)
    if now.open_to_anyone:
        return request.escalated_approvers()
    still = {*now.escalate_users, *now.escalate_groups}
    return tuple(a for a in request.escalated_approvers() if a in still)


def escalation_to_come(request: ApprovalRequest, policy: Policy) -> tuple[str, ...]:
    """Whom an escalation still to come would add (``governance.fire_due``): those of the
    captured rule's ``escalate_to`` the rule in force still escalates to (all, when it is
    open); nobody once it came, or when it is due only after the request expires."""
    if request.escalation_due() is None:
        return ()
    rule = request.capsule.policy
    targets = (*rule.escalate_users, *rule.escalate_groups)
    now = policy.rule_for(request.capsule.tool)
    if now.open_to_anyone:
        return targets
    still = {*now.escalate_users, *now.escalate_groups}
    return tuple(t for t in targets if t in still)


def out_of_reach(request: ApprovalRequest, policy: Policy) -> tuple[str, ...] | None:
    """Who alone may still approve ``request``, whose quorum the rules it is judged by
    put out of their reach (a policy changed while it waited), or None when it can be
    reached or cannot be told (``short_of_quorum``); as its card says (``CardView``)."""
    deciders = approvers_of(request, policy)
    if deciders is None:
        return None
    came = request.escalation() is not None
    return short_of_quorum(
        deciders=deciders,
        escalated=escalated_of(request, policy) if came else escalation_to_come(request, policy),
        quorum=quorum_of(request, policy),
        askers=request.capsule.askers,
        self_approval=self_approval_of(request, policy),
    )


def self_approval_of(request: ApprovalRequest, policy: Policy) -> bool:
    """May a requester decide their own request? Only when both rules allow it."""
    rules = (request.capsule.policy, policy.rule_for(request.capsule.tool))
    return all(rule.allow_self_approval for rule in rules)


def quorum_of(request: ApprovalRequest, policy: Policy) -> int:
    """The larger of the captured and the current rule's quorum."""
    return max(request.capsule.policy.quorum, policy.rule_for(request.capsule.tool).quorum)


def valid_for_of(request: ApprovalRequest, policy: Policy | None) -> int | None:
    """How long an approval stays good for starting the call: the shorter of the captured
    and the current rule's ``valid_for`` (None: unlimited; ``policy`` None: the captured)."""
    windows = [request.capsule.policy.valid_for_seconds]
    if policy is not None:
        windows.append(policy.rule_for(request.capsule.tool).valid_for_seconds)
    limits = [w for w in windows if w is not None]
    return min(limits) if limits else None


def reason_missing(request: ApprovalRequest, policy: Policy, reason: str) -> str | None:
    """The refusal when a reason is required (by either rule) and none was given."""
    rules: tuple[PolicyRule, ...] = (request.capsule.policy, policy.rule_for(request.capsule.tool))
    if any(rule.require_reason for rule in rules) and not reason.strip():
        return "this tool needs a reason with every decision; give one and try again"
    return None


def seen_refusal(
    request: ApprovalRequest, call: CurrentCall, seen_sha256: str | None
) -> str | None:
    """Why an approval of what the person saw cannot count (the call changed), or None.

    ``seen_sha256`` is the hash (or its first 12 or more characters) of the arguments the
    person was shown; None means the capsule's own, which is what every view showed
    before any edit (an older card, the terminal). "Edited after you saw them" only when
    they saw an earlier version: a hash that names no version of the call is a wrong hash
    (a typo, another request's), and was taken for an edit nobody made.
    """
    seen = (seen_sha256 or request.capsule.args_sha256).lower()
    if len(seen) >= 12 and call.args_sha256.startswith(seen):
        return None
    earlier = [request.capsule.args_sha256, *(e.args_sha256 for e in request.edits())]
    if len(seen) >= 12 and any(h.startswith(seen) for h in earlier):
        return (
            f"the arguments were edited after you saw them (the call is now hash "
            f"{call.short_hash}); look at the card again, then decide"
        )
    # Shown only when it is a hash: a forged button's value is not echoed back.
    given = f"the hash {seen}" if re.fullmatch(r"[0-9a-f]{1,64}", seen) else "the hash given"
    now = f"now {call.short_hash}, after {call.edit} edit(s)" if call.edit else call.short_hash
    return (
        f"{given} does not match the arguments of this request (its hash is {now}); "
        "check the hash on the card, then decide"
    )
