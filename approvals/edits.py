"""Edit & approve: an approver changes the arguments, and submitting them approves them.

The edit is a create-only record (``<id>.edit-<n>.json``) holding the new arguments, their
hash, the hash the editor changed, the tool's schema version and who and when. It is the
editor's approval of the new call; every earlier approval was of other arguments and no
longer counts (an edit resets a quorum). The editor must be someone who may decide — so
never the requester, unless self-approval is allowed — and an edit of arguments that are
no longer current (someone else edited first) is refused, not merged.

Arguments reach here validated against the tool's schema (``agent_core`` holds the tools).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sessions import Clock, LockBusyError, canonical_json, check_slack_id, utc_iso

from .authorize import GroupResolver
from .capsule import Capsule, args_sha256
from .decision_checks import may_decide, out_of_reach, quorum_of, reason_missing
from .decisions import (
    AlreadyDecided,
    AlreadyVoted,
    Decided,
    Refused,
    VoteCounted,
    finalize,
    record_decision,
    settled,
)
from .origin import Origin, recorded_origin
from .policy import Policy
from .quorum import HELD, records_locked
from .records import Edit
from .request import ApprovalRequest

__all__ = ["EDITED_MEANWHILE", "Change", "EditRecorded", "EditResult", "changes", "record_edit"]

# Why an edit of arguments that are no longer current is refused (never merged).
EDITED_MEANWHILE = (
    "someone else changed the arguments while you were editing; look at the card "
    "again, then edit or approve what it shows"
)


@dataclass(frozen=True)
class EditRecorded:
    """The edit is recorded and counts as its author's approval; the quorum needs more."""

    capsule: Capsule
    edit: Edit
    approvals: int
    quorum: int
    voters: tuple[str, ...]
    # Who alone may still approve, when the rules in force leave the quorum out of reach
    # (``decision_checks.out_of_reach``), as a counted vote carries it.
    out_of_reach: tuple[str, ...] | None = None


EditResult = Decided | AlreadyDecided | EditRecorded | VoteCounted | AlreadyVoted | Refused


@dataclass(frozen=True)
class Change:
    name: str
    before: Any  # None when the argument was not given
    after: Any  # None when the edit removed it

    def describe(self) -> str:
        def shown(value: Any) -> str:
            return "(none)" if value is None else json.dumps(value, ensure_ascii=False)

        return f"{self.name}: {shown(self.before)} → {shown(self.after)}"


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """What an edit changed, argument by argument, in name order: compared as they are
    hashed (Python holds ``True == 1 == 1.0``; the call and its hash do not)."""
    names = sorted(set(before) | set(after))
    return [
        Change(n, before.get(n), after.get(n))
        for n in names
        if n not in before
        or n not in after
        or canonical_json(before[n]) != canonical_json(after[n])
    ]


async def record_edit(
    request: ApprovalRequest,
    *,
    user: str,
    arguments: dict[str, Any],
    tool_version: str,
    base_sha256: str,
    reason: str = "",
    policy: Policy,
    groups: GroupResolver,
    clock: Clock,
    origin: Origin | None = None,
) -> EditResult:
    """Record ``user``'s edit of the arguments they were shown (``base_sha256``) as their
    approval of the edited call; the first edit of a given version wins."""
    user = check_slack_id(user)
    capsule = request.capsule
    now = clock.now()  # the click's time: checked against the deadline, and the edit's
    if (done := await settled(request, now, policy=policy, groups=groups)) is not None:
        return done
    if not (capsule.policy.allow_edit and policy.rule_for(capsule.tool).allow_edit):
        return Refused(capsule, "the policy does not allow editing this tool's arguments")
    refusal = await may_decide(request, user=user, policy=policy, groups=groups, origin=origin)
    refusal = refusal or reason_missing(request, policy, reason)
    if refusal is not None:
        return Refused(capsule, refusal)
    digest = args_sha256(capsule.tool, arguments)
    if digest == base_sha256:
        # Nothing changed: an approval of what the editor was shown.
        return await record_decision(
            request,
            user=user,
            approve=True,
            reason=reason,
            policy=policy,
            groups=groups,
            clock=clock,
            seen_sha256=base_sha256,
            origin=origin,
        )
    # Under the lock votes and denials are written under, across processes: a decision
    # written meanwhile is seen here, and none is written between this look and the edit.
    try:
        async with records_locked(request):
            return _write_edit(
                request,
                user,
                arguments,
                tool_version,
                base_sha256,
                digest,
                reason=reason,
                policy=policy,
                at=utc_iso(now),
                origin=origin,
            )
    except LockBusyError:
        return Refused(capsule, HELD)


def _write_edit(
    request: ApprovalRequest,
    user: str,
    arguments: dict[str, Any],
    tool_version: str,
    base_sha256: str,
    digest: str,
    *,
    reason: str,
    policy: Policy,
    at: str,
    origin: Origin | None,
) -> EditResult:
    # Looking up groups waited on Slack, and a decision may have come meanwhile. An edit
    # written after it would not be what was approved, and the approved call would be
    # refused when it was to start.
    capsule = request.capsule
    if (existing := request.decision()) is not None:
        return AlreadyDecided(capsule, existing)
    call = request.current()
    if base_sha256 != call.args_sha256:
        return Refused(capsule, EDITED_MEANWHILE)
    quorum = quorum_of(request, policy)
    # A crash after the edit is swept: its card update queued, and a decision the edit
    # alone completes written.
    request.arm_timer(at)
    edit = Edit(
        approval_id=capsule.id,
        n=call.edit + 1,
        user=user,
        at=at,
        base_sha256=call.args_sha256,
        tool_version=tool_version,
        arguments=dict(arguments),
        args_sha256=digest,
        changed=tuple(c.name for c in changes(call.arguments, arguments)),
        reason=reason,
        origin=recorded_origin(origin),
    )
    if not request.write_edit(edit):
        return Refused(
            capsule,
            "someone else edited the arguments first; look at the card again, then edit or "
            "approve what it shows",
        )
    request.arm_timer(at)  # again, now that the edit is on disk (as a completing vote does)
    request.queue_card(f"edit-{edit.n}")
    edited = request.current()
    voters = request.approvals(edited)
    if len(voters) >= quorum:
        return finalize(
            request,
            verdict="approved",
            deciders=voters,
            at=at,
            reason=reason,
            call=edited,
            policy=policy,
        )
    alone = out_of_reach(request, policy)
    return EditRecorded(capsule, edit, len(voters), quorum, voters, out_of_reach=alone)
