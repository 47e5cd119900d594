"""A quorum's votes: recording one approval of several, and finishing a quorum whose
decision a crash prevented.

With a quorum, each person's vote is its own create-only file, so a double click or a
second process counts once. A quorum is of approvers the rules allow when it completes:
the approval that would complete one asks again about the earlier ones
(``decision_checks.no_longer_allowed``).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import TypeVar

from sessions import LockBusyError, busy_wait, dir_lock_async, utc_iso

from .authorize import GroupResolver, Unchecked
from .decision_checks import no_longer_allowed, quorum_of, seen_refusal
from .governed import CurrentCall
from .origin import Origin, recorded_origin
from .outcomes import AlreadyDecided, AlreadyVoted, Decided, Refused, VoteCounted, finalize
from .policy import Policy
from .records import SYSTEM, Vote, vote_key
from .request import ApprovalRequest

__all__ = [
    "HELD",
    "SWEEP_WAIT",
    "complete_or",
    "complete_quorum",
    "record_approval",
    "records_locked",
    "votes_why",
]


# How often a click or a sweep asks Slack again because approvals came in meanwhile.
_ASKS = 5
_BUSY = "approvals of this request kept coming in while signoff checked them; try again"
# How long the lock on a request's votes is waited for. Its holder takes milliseconds (Slack
# is asked outside it), unless stopped (a terminal's ``signoff approve`` suspended with
# Ctrl-Z): the sweep, which goes request by request, leaves that one for its next pass
# rather than hold up every reminder and expiry; a click waits longer (``busy_wait()``,
# 5 s), then tells its person to try again.
SWEEP_WAIT = 1.0
Short = TypeVar("Short")
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
    for _ in range(_ASKS):
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
                    round=_next_round(request, call, user),
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
    return Refused(capsule, _BUSY)


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
        return VoteCounted(capsule, len(voters), quorum, voters)
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


def _next_round(request: ApprovalRequest, call: CurrentCall, user: str) -> int:
    """The number ``user``'s next approval of these arguments takes (an edit is its
    author's first): a file of its own, so an approval discounted stays on record."""
    editor = call.edit > 0 and request.edits()[call.edit - 1].user == user
    n = 1 + editor + sum(v.user == user for v in request.votes(call.edit))
    # A file under this name holding another's vote (a hand-edited home) counts for nobody,
    # yet its name is taken: written there, this approval would be refused as given already.
    while request.vote_file_taken(vote_key(user, n), edit=call.edit):
        n += 1
    return n


async def complete_quorum(
    request: ApprovalRequest,
    *,
    policy: Policy,
    groups: GroupResolver,
    call: CurrentCall | None = None,
    wait: float = SWEEP_WAIT,
) -> Decided | AlreadyDecided | Unchecked | None:
    """Decide a request whose approvals are all in but whose decision a crash prevented
    (or a quorum the policy in force lowered), with the approvers the rules still allow:
    None while they are not a quorum, Unchecked while Slack cannot say (ask again later).
    Approved when the last of those approvals came (a vote, or the edit itself), not when
    a sweep found it: valid_for counts from then, so a call a crash held up goes stale,
    and a quorum complete before the deadline stands after it. Unchecked too while
    another process holds the request's lock past ``wait`` (asked again next pass)."""
    return await complete_or(
        request, policy=policy, groups=groups, short=_nothing, call=call, wait=wait
    )


async def complete_or(
    request: ApprovalRequest,
    *,
    policy: Policy,
    groups: GroupResolver,
    short: Callable[[], Short],
    call: CurrentCall | None = None,
    wait: float = SWEEP_WAIT,
) -> Decided | AlreadyDecided | Unchecked | Short:
    """``complete_quorum``, and what ``short()`` does when the approvals are no quorum (or
    ``call`` is no longer the current one): called under the lock the quorum was judged
    under, so no vote lands between the two (an expiry: a vote is then counted before
    it, or finds the request decided)."""
    try:
        return await _completion(request, policy, groups, call, wait, short)
    except LockBusyError:
        return Unchecked(HELD)


async def _completion(
    request: ApprovalRequest,
    policy: Policy,
    groups: GroupResolver,
    pinned: CurrentCall | None,
    wait: float,
    short: Callable[[], Short],
) -> Decided | AlreadyDecided | Unchecked | Short:
    quorum = quorum_of(request, policy)
    allowed: dict[str, bool] = {}
    for _ in range(_ASKS):
        # As a completing click asks of the approvals before it: none of these may have
        # been asked when it completed (the quorum was higher then, or they left since).
        # Decided under the lock a click counts under, on what was asked about, for the
        # call as it is under it: an edit written while this waited for the lock replaced
        # the call, and the votes read before it would approve the arguments it replaced.
        async with records_locked(request, wait=wait):
            call = request.current()
            if pinned is not None and (call.edit, call.args_sha256) != (
                pinned.edit,
                pinned.args_sha256,
            ):
                return short()
            counted = request.counted(call)
            if not counted or len(counted) < quorum:
                return short()
            unasked = [voter for voter in counted if voter not in allowed]
            if not unasked:
                kept = {voter: key for voter, key in counted.items() if allowed[voter]}
                _discount(request, call, [key for v, key in counted.items() if v not in kept])
                decided = _decide_with(request, call, kept, quorum=quorum, policy=policy)
                return short() if decided is None else decided
            origins = request.origins(call, counted)
        refused = await no_longer_allowed(
            request, voters=unasked, policy=policy, groups=groups, origins=origins
        )
        if isinstance(refused, Unchecked):
            return refused
        allowed |= {voter: voter not in refused for voter in unasked}
    return Unchecked(_BUSY)


def _nothing() -> None:
    return None


def _discount(request: ApprovalRequest, call: CurrentCall, gone: list[str]) -> None:
    """Record, as a click's vote would, that the approvals ``gone`` count no more: else
    the card, the Home and the audit count them until someone clicks (a sweep that declined
    to decide changed nothing on disk). signoff's own record, approving nothing."""
    if not gone:
        return
    vote = Vote(
        approval_id=request.id,
        user=SYSTEM,
        approve=False,
        at=utc_iso(request.clock.now()),
        reason="no longer allowed to decide",
        args_sha256=call.args_sha256,
        discounted=tuple(gone),
        round=_next_round(request, call, SYSTEM),
    )
    if request.write_vote(vote, edit=call.edit):
        request.queue_card(votes_why(call.edit, request.approvals_cast(call)))


def _decide_with(
    request: ApprovalRequest,
    call: CurrentCall,
    kept: dict[str, str],
    *,
    quorum: int,
    policy: Policy,
) -> Decided | AlreadyDecided | None:
    if len(kept) < quorum:
        return None
    approvals = []
    if call.edit and kept.get(editor := request.edits()[call.edit - 1].user) == editor:
        edit = request.edits()[call.edit - 1]
        approvals.append((edit.at, edit.reason))
    # Only files named for what they hold: a copy of a counted vote has its key too.
    counted = request.votes(call.edit, counting=True)
    approvals += [(v.at, v.reason) for v in counted if kept.get(v.user) == v.key]
    last_at, reason = sorted(approvals, key=lambda a: a[0])[-1]
    return finalize(
        request,
        verdict="approved",
        deciders=tuple(kept),
        at=last_at,
        reason=reason,
        call=call,
        policy=policy,
    )


def votes_why(edit: int, count: int) -> str:
    """The card update queued for a vote: one per count, per edit."""
    return f"votes-{count}" if edit == 0 else f"edit{edit}-votes-{count}"
