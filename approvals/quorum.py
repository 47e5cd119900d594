"""A quorum's votes: recording one approval of several, and finishing a quorum whose
decision a crash prevented.

With a quorum, each person's vote is its own create-only file, so a double click or a
second process counts once. A quorum is of approvers the rules allow when it completes:
the approval that would complete one asks again about the earlier ones
(``decision_checks.no_longer_allowed``).
"""

from __future__ import annotations

from .authorize import GroupResolver, Unchecked
from .decision_checks import may_decide, no_longer_allowed, quorum_of, seen_refusal
from .governed import CurrentCall
from .outcomes import AlreadyDecided, AlreadyVoted, Decided, Refused, VoteCounted, finalize
from .policy import Policy
from .records import Vote
from .request import ApprovalRequest

__all__ = ["complete_quorum", "record_approval", "votes_why"]


async def record_approval(
    request: ApprovalRequest,
    *,
    user: str,
    reason: str,
    at: str,
    policy: Policy,
    groups: GroupResolver,
    seen_sha256: str | None,
) -> Decided | AlreadyDecided | VoteCounted | AlreadyVoted | Refused:
    """``user``'s approval of the call they saw (``decisions.record_decision`` asked the
    rest): the decision when it is the only one needed or completes the quorum, else
    their counted vote."""
    capsule = request.capsule
    gone = await no_longer_allowed(request, user=user, policy=policy, groups=groups)
    if isinstance(gone, Unchecked):
        return Refused(capsule, gone)
    # Looking up groups waited on Slack: a decision may have come meanwhile (a vote
    # written after it was told "counted"). Nothing is awaited from here on.
    if (existing := request.decision()) is not None:
        return AlreadyDecided(capsule, existing)
    call = request.current()
    refusal = seen_refusal(request, call, seen_sha256)
    if refusal is not None:
        return Refused(capsule, refusal)
    quorum = quorum_of(request, policy)
    counted = request.counted(call)
    if user in counted:
        return AlreadyVoted(capsule)
    # Named as the approvals they were (an edit meanwhile reset them).
    discounted = tuple(counted[voter] for voter in gone if voter in counted)
    so_far = tuple(voter for voter in counted if voter not in gone)
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
        discounted=discounted,
        round=_next_round(request, call, user),
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


def _next_round(request: ApprovalRequest, call: CurrentCall, user: str) -> int:
    """The number ``user``'s next approval of these arguments takes (an edit is its
    author's first): a file of its own, so an approval discounted stays on record."""
    editor = call.edit > 0 and request.edits()[call.edit - 1].user == user
    return 1 + editor + sum(v.user == user for v in request.votes(call.edit))


async def complete_quorum(
    request: ApprovalRequest,
    *,
    policy: Policy,
    groups: GroupResolver,
    call: CurrentCall | None = None,
) -> Decided | AlreadyDecided | Unchecked | None:
    """Decide a request whose approvals are all in but whose decision a crash prevented
    (or a quorum the policy in force lowered), with the approvers the rules still allow:
    None while they are not a quorum, Unchecked while Slack cannot say (ask again later).
    Approved when the last of those approvals came (a vote, or the edit itself), not when
    a sweep found it: valid_for counts from then, so a call a crash held up goes stale,
    and a quorum complete before the deadline stands after it."""
    call = call or request.current()
    counted = request.counted(call)
    quorum = quorum_of(request, policy)
    if not counted or len(counted) < quorum:
        return None
    # As a completing click asks of the approvals before it: none of these may have been
    # asked when it completed (the quorum was higher then, or they left since).
    allowed: dict[str, str] = {}
    for voter, key in counted.items():
        refusal = await may_decide(request, user=voter, policy=policy, groups=groups)
        if isinstance(refusal, Unchecked):
            return refusal
        if refusal is None:
            allowed[voter] = key
    if len(allowed) < quorum:
        return None
    approvals = []
    if call.edit and allowed.get(editor := request.edits()[call.edit - 1].user) == editor:
        edit = request.edits()[call.edit - 1]
        approvals.append((edit.at, edit.reason))
    approvals += [
        (v.at, v.reason) for v in request.votes(call.edit) if allowed.get(v.user) == v.key
    ]
    last_at, reason = sorted(approvals, key=lambda a: a[0])[-1]
    return finalize(
        request,
        verdict="approved",
        deciders=tuple(allowed),
        at=last_at,
        reason=reason,
        call=call,
        policy=policy,
    )


def votes_why(edit: int, count: int) -> str:
    """The card update queued for a vote: one per count, per edit."""
    return f"votes-{count}" if edit == 0 else f"edit{edit}-votes-{count}"
