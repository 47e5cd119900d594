"""A quorum's votes: recording one approval of several, under the lock on the request's
records (finishing a quorum whose decision a crash prevented: ``quorum_completion``).

With a quorum, each person's vote is its own create-only file, so a double click or a
second process counts once. A quorum is of approvers the rules allow when it completes:
the approval that would complete one asks again about the earlier ones
(``decision_checks.no_longer_allowed``).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from sessions import LockBusyError, busy_wait, dir_lock_async

from .authorize import GroupResolver, Unchecked
from .decision_checks import no_longer_allowed, out_of_reach, quorum_of, seen_refusal
from .governed import CurrentCall
from .origin import Origin, recorded_origin
from .outcomes import AlreadyDecided, AlreadyVoted, Decided, Refused, VoteCounted, finalize
from .policy import Policy
from .records import Vote, vote_key
from .request import ApprovalRequest

__all__ = [
    "ASKS",
    "BUSY",
    "HELD",
    "next_round",
    "record_approval",
    "records_locked",
    "votes_why",
]


# How often a click or a sweep asks Slack again because approvals came in meanwhile.
ASKS = 5
BUSY = "approvals of this request kept coming in while signoff checked them; try again"
HELD = "another approval of this request is being recorded just now; try again in a moment"


async def record_approval(
    request: ApprovalRequest,
    *,
    user: str,
    reason: str,
    at: str,
    policy: Policy,
    groups: GroupResolver,
    seen_sha256: str | None,
    origin: Origin | None = None,
) -> Decided | AlreadyDecided | VoteCounted | AlreadyVoted | Refused:
    """``user``'s approval of the call they saw (``decisions.record_decision`` asked the
    rest): the decision when it is the only one needed or completes the quorum, else
    their counted vote (naming ``origin`` when it is another organization's).

    Who approved before is read, and the vote written and counted, under the request's
    lock across processes (``records_locked``): another process's approval lands before
    or after, never between, so one of them sees the other's and asks about everyone
    before it. Slack is asked outside the lock (it may take seconds): when approvals came
    in meanwhile, those are asked about in turn."""
    try:
        return await _approval(request, user, reason, at, policy, groups, seen_sha256, origin)
    except LockBusyError:
        return Refused(request.capsule, HELD)


async def _approval(
    request: ApprovalRequest,
    user: str,
    reason: str,
    at: str,
    policy: Policy,
    groups: GroupResolver,
    seen_sha256: str | None,
    origin: Origin | None,
) -> Decided | AlreadyDecided | VoteCounted | AlreadyVoted | Refused:
    capsule = request.capsule
    cast_from = recorded_origin(origin)
    allowed: dict[str, bool] = {}  # earlier approvers asked about: may they still decide?
    for _ in range(ASKS):
        async with records_locked(request):
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
            so_far = [voter for voter in counted if allowed.get(voter, True)]
            # Only the approval that would complete the quorum asks about the others.
            unasked = [v for v in counted if v not in allowed] if len(so_far) + 1 >= quorum else []
            if not unasked:
                gone = tuple(counted[voter] for voter in counted if voter not in so_far)
                vote = Vote(
                    approval_id=capsule.id,
                    user=user,
                    approve=True,
                    at=at,
                    reason=reason,
                    args_sha256=call.args_sha256,
                    discounted=gone,
                    round=next_round(request, call, user),
                    origin=cast_from,
                )
                if len(so_far) + 1 >= quorum:
                    request.arm_timer(at)  # it completes it: a crash before the decision is swept
                return _count(request, call, vote, quorum=quorum, policy=policy)
            origins = request.origins(call, counted)  # read with the votes asked about
        refused = await no_longer_allowed(
            request, voters=unasked, policy=policy, groups=groups, origins=origins
        )
        if isinstance(refused, Unchecked):
            return Refused(capsule, refused)
        allowed |= {voter: voter not in refused for voter in unasked}
    return Refused(capsule, BUSY)


def _count(
    request: ApprovalRequest, call: CurrentCall, vote: Vote, *, quorum: int, policy: Policy
) -> Decided | AlreadyDecided | VoteCounted | AlreadyVoted:
    """Write ``vote`` and count it; the decision when it completes the quorum."""
    capsule, at = request.capsule, vote.at
    if not request.write_vote(vote, edit=call.edit):
        return AlreadyVoted(capsule)
    voters = request.approvals(call)
    if len(voters) < quorum:
        request.queue_card(votes_why(call.edit, request.approvals_cast(call)))
        alone = out_of_reach(request, policy)
        return VoteCounted(capsule, len(voters), quorum, voters, out_of_reach=alone)
    # Again, now that the vote is on disk: a sweep may have taken the marker above before
    # it was, and dropped it; a crash before the decision would then leave none.
    request.arm_timer(at)
    return finalize(
        request,
        verdict="approved",
        deciders=voters,
        at=at,
        reason=vote.reason,
        call=call,
        policy=policy,
    )


def records_locked(
    request: ApprovalRequest, *, wait: float | None = None
) -> AbstractAsyncContextManager[None]:
    """The lock under which votes, edits and denials are checked and written, and a quorum
    decided, across processes: on the asking session's ``approvals/`` (there is no file to
    create or list; its requests' clicks wait for each other only while they write).
    ``LockBusyError`` when not free within ``wait`` seconds (``busy_wait()``: a click's)."""
    patience = busy_wait() if wait is None else wait
    return dir_lock_async(request.session_dir / "approvals", give_up_after=patience)


def next_round(request: ApprovalRequest, call: CurrentCall, user: str) -> int:
    """The number ``user``'s next approval of these arguments takes (an edit is its
    author's first): a file of its own, so an approval discounted stays on record."""
    editor = call.edit > 0 and request.edits()[call.edit - 1].user == user
    n = 1 + editor + sum(v.user == user for v in request.votes(call.edit))
    # A file under this name holding another's vote (a hand-edited home) counts for nobody,
    # yet its name is taken: written there, this approval would be refused as given already.
    while request.vote_file_taken(vote_key(user, n), edit=call.edit):
        n += 1
    return n


def votes_why(edit: int, count: int) -> str:
    """The card update queued for a vote: one per count, per edit."""
    return f"votes-{count}" if edit == 0 else f"edit{edit}-votes-{count}"
