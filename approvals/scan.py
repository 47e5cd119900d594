"""Index rows for the approvals of one session, read from its files (for reindex)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sessions import ApprovalRow, SessionRecord

from .capsule import Capsule, capsule_ids, load_capsule
from .decisions import load_decision
from .records import CardRef, Decision, Told, read_optional, record_path

__all__ = ["approval_row", "row_from_disk", "scan_session_approvals"]


def approval_row(
    capsule: Capsule,
    decision: Decision | None = None,
    card: CardRef | None = None,
    told: Told | None = None,
) -> ApprovalRow:
    return ApprovalRow(
        id=capsule.id,
        session_id=capsule.session_id,
        thread=capsule.thread,
        tool=capsule.tool,
        args_sha256=capsule.args_sha256,
        requester=capsule.requester,
        status=decision.verdict if decision else "pending",
        created_at=capsule.created_at,
        expires_at=capsule.expires_at,
        decided_by=" ".join(decision.deciders) if decision else None,
        decided_at=decision.at if decision else None,
        card_channel=card.channel if card else None,
        card_ts=card.ts if card else None,
        approvers=" ".join([*capsule.policy.approver_users, *capsule.policy.approver_groups]),
        told_in=told.session_id if told else None,
    )


def row_from_disk(session_dir: Path, capsule: Capsule) -> ApprovalRow:
    """The index row for a capsule, from every file beside it: the one way rows are made."""
    return approval_row(
        capsule,
        load_decision(session_dir, capsule.id),
        read_optional(record_path(session_dir, capsule.id, "card"), CardRef),
        read_optional(record_path(session_dir, capsule.id, "told"), Told),
    )


def scan_session_approvals(session_dir: Path, record: SessionRecord) -> Iterator[ApprovalRow]:
    for approval_id in capsule_ids(session_dir):
        yield row_from_disk(session_dir, load_capsule(session_dir, approval_id))
