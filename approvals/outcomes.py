"""What recording a decision or a vote can come to, and the final decision's write.

The final decision is a create-only file, so across processes exactly one writer
creates it and everyone else reads who won. Ordering is what makes it impossible to
strand: the thread's work-queue marker is written *before* the decision, so a process
killed right after deciding leaves a thread that start-up recovery wakes; and the card's
outbox entry is queued right after it, and queued again when the outcome is told, so no
crash leaves a decided card with buttons.
"""

from __future__ import annotations

from dataclasses import dataclass

from sessions import coordination_for

from .capsule import Capsule
from .decision_checks import valid_for_of
from .governed import CurrentCall, after
from .policy import Policy
from .records import Decision, Verdict
from .request import ApprovalRequest

__all__ = [
    "AlreadyDecided",
    "AlreadyVoted",
    "CannotRun",
    "Decided",
    "DecisionResult",
    "Refused",
    "VoteCounted",
    "finalize",
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
    counts expiries must hear of it here: no sweep will find it); ``completed_now``: so
    was the approval of a quorum complete before the deadline."""

    capsule: Capsule
    decision: Decision
    expired_now: bool = False
    completed_now: bool = False


@dataclass(frozen=True)
class VoteCounted:
    capsule: Capsule
    approvals: int
    quorum: int
    voters: tuple[str, ...] = ()
    # Who alone may still approve, when the rules in force leave the quorum out of reach
    # (``decision_checks.out_of_reach``): the vote counts, but cannot decide it.
    out_of_reach: tuple[str, ...] | None = None


@dataclass(frozen=True)
class AlreadyVoted:
    capsule: Capsule


class CannotRun(str):
    """A refusal of an approval because it would run nothing (its tool left the
    configuration, or changed): not a verdict on the person, who may still deny."""


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
