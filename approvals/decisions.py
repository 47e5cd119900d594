"""Recording decisions: authorized at click time, first final decision wins.

The final decision is a create-only file, so across processes exactly one writer
creates it and everyone else reads who won. With a quorum, each person's vote is its
own create-only file, so a double click or a second process counts once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sessions import AlreadyExistsError, Clock, Home, check_slack_id, utc_iso

from .authorize import GroupResolver, authorize
from .capsule import Capsule, load_capsule
from .errors import HashMismatchError
from .policy import Policy
from .records import (
    CardRef,
    Decision,
    Verdict,
    Vote,
    read_optional,
    record_path,
    session_of,
    write_record,
)

__all__ = [
    "AlreadyDecided",
    "AlreadyVoted",
    "Decided",
    "DecisionResult",
    "Refused",
    "VoteCounted",
    "decide",
    "finalize",
    "load_decision",
    "locate",
]

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


@dataclass(frozen=True)
class AlreadyVoted:
    capsule: Capsule


@dataclass(frozen=True)
class Refused:
    capsule: Capsule
    reason: str


DecisionResult = Decided | AlreadyDecided | VoteCounted | AlreadyVoted | Refused


def locate(home: Home, approval_id: str) -> tuple[Path, Capsule]:
    """The capsule an approval id names, found through its pointer (no index needed).

    Its arguments must still hash to its recorded hash, and that hash must be the one
    its card showed the approvers.
    """
    session_dir = home.session_dir(session_of(home, approval_id))
    capsule = load_capsule(session_dir, approval_id)
    capsule.verify_hash()
    card = read_optional(record_path(session_dir, approval_id, "card"), CardRef)
    if card is not None and card.args_sha256 and card.args_sha256 != capsule.args_sha256:
        raise HashMismatchError(
            f"{approval_id}: the card showed hash {card.args_sha256[:12]}, "
            f"the capsule now holds {capsule.short_hash}"
        )
    return session_dir, capsule


def load_decision(session_dir: Path, approval_id: str) -> Decision | None:
    return read_optional(record_path(session_dir, approval_id, "decision"), Decision)


def finalize(
    session_dir: Path,
    capsule: Capsule,
    *,
    verdict: Verdict,
    deciders: tuple[str, ...],
    at: str,
    reason: str = "",
) -> Decided | AlreadyDecided:
    decision = Decision(
        approval_id=capsule.id,
        verdict=verdict,
        deciders=deciders,
        at=at,
        reason=reason,
        args_sha256=capsule.args_sha256,
    )
    try:
        write_record(record_path(session_dir, capsule.id, "decision"), decision)
    except AlreadyExistsError:
        existing = load_decision(session_dir, capsule.id)
        assert existing is not None  # create-only: it exists once EEXIST was raised
        return AlreadyDecided(capsule, existing)
    return Decided(capsule, decision)


def expired(capsule: Capsule, now: datetime) -> bool:
    return utc_iso(now) >= capsule.expires_at


def expire(session_dir: Path, capsule: Capsule, *, now: datetime) -> Decided | AlreadyDecided:
    verdict: Verdict = "denied" if capsule.policy.on_expiry == "deny" else "expired"
    return finalize(
        session_dir,
        capsule,
        verdict=verdict,
        deciders=(SYSTEM,),
        at=utc_iso(now),
        reason=f"no decision before {capsule.expires_at}",
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
) -> DecisionResult:
    user = check_slack_id(user)
    session_dir, capsule = locate(home, approval_id)
    existing = load_decision(session_dir, approval_id)
    if existing is not None:
        return AlreadyDecided(capsule, existing)
    now = clock.now()
    if expired(capsule, now):
        result = expire(session_dir, capsule, now=now)
        return AlreadyDecided(result.capsule, result.decision)
    refusal = await authorize(
        user=user,
        requester=capsule.askers,
        snapshot=capsule.policy,
        current=policy.rule_for(capsule.tool),
        groups=groups,
    )
    if refusal:
        return Refused(capsule, refusal)
    at = utc_iso(now)
    if not approve:
        return finalize(
            session_dir, capsule, verdict="denied", deciders=(user,), at=at, reason=reason
        )
    quorum = max(capsule.policy.quorum, policy.rule_for(capsule.tool).quorum)
    if quorum == 1:
        return finalize(session_dir, capsule, verdict="approved", deciders=(user,), at=at)
    votes_dir = session_dir / "approvals" / f"{capsule.id}.votes"
    votes_dir.mkdir(exist_ok=True)
    try:
        write_record(
            votes_dir / f"{user}.json", Vote(approval_id=capsule.id, user=user, approve=True, at=at)
        )
    except AlreadyExistsError:
        return AlreadyVoted(capsule)
    voters = _approving_voters(votes_dir)
    if len(voters) < quorum:
        return VoteCounted(capsule, len(voters), quorum)
    return finalize(session_dir, capsule, verdict="approved", deciders=tuple(voters), at=at)


def _approving_voters(votes_dir: Path) -> list[str]:
    votes = []
    for name in sorted(os.listdir(votes_dir)):
        if name.endswith(".json"):
            vote = read_optional(votes_dir / name, Vote)
            if vote is not None and vote.approve:
                votes.append(vote)
    return [v.user for v in sorted(votes, key=lambda v: (v.at, v.user))]
