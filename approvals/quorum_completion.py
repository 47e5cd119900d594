"""Finishing a quorum: deciding a request whose approvals are all in but whose decision a
crash prevented, or whose quorum the policy in force lowered (both sweeps, and a click
that finds the approvals complete, come here).

The approvers are those the rules allow when it completes: the earlier ones are asked
about again (``decision_checks.no_longer_allowed``), under the lock a click counts under
(``quorum.records_locked``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias, TypeVar

from sessions import LockBusyError, utc_iso

from .authorize import GroupResolver, Unchecked
from .decision_checks import no_longer_allowed, quorum_of
from .governed import CurrentCall
from .outcomes import AlreadyDecided, CannotRun, Decided, finalize
from .policy import Policy
from .quorum import ASKS, BUSY, HELD, next_round, records_locked, votes_why
from .records import SYSTEM, Vote
from .request import ApprovalRequest

__all__ = ["SWEEP_WAIT", "RunsNothing", "complete_or", "complete_quorum", "tell_runs_nothing"]

# How long the lock on a request's votes is waited for. Its holder takes milliseconds (Slack
# is asked outside it), unless stopped (a terminal's ``signoff approve`` suspended with
# Ctrl-Z): the sweep, which goes request by request, leaves that one for its next pass
# rather than hold up every reminder and expiry; a click waits longer (``busy_wait()``,
# 5 s), then tells its person to try again.
SWEEP_WAIT = 1.0
Short = TypeVar("Short")
# Why approving a request would run nothing here (its tool left the configuration, or
# changed), Unchecked when this process cannot tell (a terminal lacking the tool, which
# cannot see the bot's), or None: the engine's, which knows the tools
# (``agent_core.approved_call``).
RunsNothing: TypeAlias = Callable[[ApprovalRequest], CannotRun | Unchecked | None]


def tell_runs_nothing(request: ApprovalRequest, why: CannotRun) -> None:
    """The card's thread is told, once (a fixed outbox id), that approving it would run
    nothing: the card itself still offers Approve, as the tool may come back (a
    configuration put right again), and the next approver should not have to click to
    learn it."""
    request.queue_post(
        "runs-nothing", f"⚠️ This request cannot be approved now: {why}.", by_card=True
    )


async def complete_quorum(
    request: ApprovalRequest,
    *,
    policy: Policy,
    groups: GroupResolver,
    call: CurrentCall | None = None,
    wait: float = SWEEP_WAIT,
    runs_nothing: CannotRun | Unchecked | None = None,
) -> Decided | AlreadyDecided | Unchecked | None:
    """Decide a request whose approvals are all in but whose decision a crash prevented
    (or a quorum the policy in force lowered), with the approvers the rules still allow:
    None while they are not a quorum, Unchecked while Slack cannot say (ask again later).
    Approved when the last of those approvals came (a vote, or the edit itself), not when
    a sweep found it: valid_for counts from then, so a call a crash held up goes stale,
    and a quorum complete before the deadline stands after it. Unchecked too while
    another process holds the request's lock past ``wait`` (asked again next pass).

    ``runs_nothing``: why approving it would run nothing, as a click is refused for (its
    tool left the configuration or changed): a quorum then decides nothing, its thread is
    told why, and it waits for the tool or its deadline. Unchecked when this process
    cannot tell (a terminal lacking the tool): it is left to the bot, asked again next pass.
    """
    return await complete_or(
        request,
        policy=policy,
        groups=groups,
        short=_nothing,
        call=call,
        wait=wait,
        runs_nothing=runs_nothing,
    )


async def complete_or(
    request: ApprovalRequest,
    *,
    policy: Policy,
    groups: GroupResolver,
    short: Callable[[], Short],
    call: CurrentCall | None = None,
    wait: float = SWEEP_WAIT,
    runs_nothing: CannotRun | Unchecked | None = None,
) -> Decided | AlreadyDecided | Unchecked | Short:
    """``complete_quorum``, and what ``short()`` does when the approvals are no quorum (or
    ``call`` is no longer the current one): called under the lock the quorum was judged
    under, so no vote lands between the two (an expiry: a vote is then counted before
    it, or finds the request decided)."""
    try:
        return await _completion(request, policy, groups, call, wait, short, runs_nothing)
    except LockBusyError:
        return Unchecked(HELD)


async def _completion(
    request: ApprovalRequest,
    policy: Policy,
    groups: GroupResolver,
    pinned: CurrentCall | None,
    wait: float,
    short: Callable[[], Short],
    runs_nothing: CannotRun | Unchecked | None,
) -> Decided | AlreadyDecided | Unchecked | Short:
    quorum = quorum_of(request, policy)
    allowed: dict[str, bool] = {}
    for _ in range(ASKS):
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
                if isinstance(runs_nothing, Unchecked) and len(kept) >= quorum:
                    return runs_nothing  # neither approved nor told: the bot can tell
                if isinstance(runs_nothing, CannotRun) and len(kept) >= quorum:
                    # As a click completing it would be refused: no approval spent on
                    # a call refused at its start, under a card saying "Approved".
                    tell_runs_nothing(request, runs_nothing)
                    return short()
                decided = _decide_with(request, call, kept, quorum=quorum, policy=policy)
                return short() if decided is None else decided
            origins = request.origins(call, counted)
        refused = await no_longer_allowed(
            request, voters=unasked, policy=policy, groups=groups, origins=origins
        )
        if isinstance(refused, Unchecked):
            return refused
        allowed |= {voter: voter not in refused for voter in unasked}
    return Unchecked(BUSY)


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
        round=next_round(request, call, SYSTEM),
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
