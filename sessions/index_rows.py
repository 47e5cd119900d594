"""The index's rows: what a look-up returns, and how a SQLite row becomes one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiosqlite

from .records import SessionRecord, ThreadKey

__all__ = [
    "ApprovalRow",
    "ApprovalValues",
    "AskerValues",
    "SessionRow",
    "SessionValues",
    "ThreadValues",
    "approval_filter",
    "approval_row",
    "approval_values",
    "asker_values",
    "session_row",
    "session_values",
]

# A row as the tables store it, column by column: plain tuples, so that a rebuild's
# worker processes send rows to the parent without pickling records.
SessionValues = tuple[str, str | None, str, str, str, str, str, str, str, str]
ThreadValues = tuple[str, str, str, str | None]  # team, channel, thread_ts, HEAD
AskerValues = tuple[str, str]  # user, approval_id: a co-requester (see index_schema)
ApprovalValues = tuple[
    str, str, str, str, str, str, str, str, str, str, str,
    str | None, str | None, str | None, str | None, str, str | None,
]  # fmt: skip


@dataclass(frozen=True)
class SessionRow:
    id: str
    parent_id: str | None
    thread: ThreadKey
    state: str
    cause: str
    reason: str
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class ApprovalRow:
    id: str
    session_id: str
    thread: ThreadKey
    tool: str
    args_sha256: str
    requester: str
    status: str
    created_at: str
    expires_at: str
    decided_by: str | None = None
    decided_at: str | None = None
    card_channel: str | None = None
    card_ts: str | None = None
    # Space-separated user and group ids the policy names; "" means anyone but the requester.
    approvers: str = ""
    # The session that told the model the outcome; decided rows without it are unfinished.
    told_in: str | None = None
    # Whoever else's message the request answered (the capsule's requesters after the
    # first). Written to the index's own table; rows read back leave it empty.
    co_requesters: tuple[str, ...] = ()


def approval_filter(
    status: str | None,
    session_id: str | None,
    due_before: str | None,
    untold: bool,
    card_missing: bool,
) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if status is not None:
        where.append("status = ?")
        params.append(status)
    if session_id is not None:
        where.append("session_id = ?")
        params.append(session_id)
    if due_before is not None:
        where.append("expires_at <= ?")
        params.append(due_before)
    if untold:
        where.append("status != 'pending' AND told_in IS NULL")
    if card_missing:
        where.append("card_ts IS NULL")
    return where, params


def _thread(row: aiosqlite.Row) -> ThreadKey:
    return ThreadKey(team=row["team"], channel=row["channel"], thread_ts=row["thread_ts"])


def session_row(row: aiosqlite.Row) -> SessionRow:
    return SessionRow(
        id=row["id"],
        parent_id=row["parent_id"],
        thread=_thread(row),
        state=row["state"],
        cause=row["cause"],
        reason=row["reason"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def approval_row(row: aiosqlite.Row) -> ApprovalRow:
    return ApprovalRow(
        id=row["id"],
        session_id=row["session_id"],
        thread=_thread(row),
        tool=row["tool"],
        args_sha256=row["args_sha256"],
        requester=row["requester"],
        status=row["status"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
        card_channel=row["card_channel"],
        card_ts=row["card_ts"],
        approvers=row["approvers"],
        told_in=row["told_in"],
    )


def session_values(r: SessionRecord) -> SessionValues:
    return (
        r.id,
        r.parent_id,
        r.thread.team,
        r.thread.channel,
        r.thread.thread_ts,
        r.state.value,
        r.cause,
        r.reason,
        r.created_at,
        r.transitions[-1].at,
    )


def approval_values(a: ApprovalRow) -> ApprovalValues:
    return (
        a.id,
        a.session_id,
        a.thread.team,
        a.thread.channel,
        a.thread.thread_ts,
        a.tool,
        a.args_sha256,
        a.requester,
        a.status,
        a.created_at,
        a.expires_at,
        a.decided_by,
        a.decided_at,
        a.card_channel,
        a.card_ts,
        a.approvers,
        a.told_in,
    )


def asker_values(a: ApprovalRow) -> list[AskerValues]:
    return [(user, a.id) for user in a.co_requesters if user != a.requester]
