"""The SQLite index: fast look-ups over what the directories hold.

Never the only copy of anything (I5): every row can be rebuilt by ``reindex`` from the
files, and the files are always written first, so after a crash the index lags the disk
by at most one step and readers that act on a row re-read the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from .records import SessionRecord, ThreadKey

__all__ = ["ApprovalRow", "Index", "SessionRow"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS threads (
  team TEXT NOT NULL, channel TEXT NOT NULL, thread_ts TEXT NOT NULL,
  head TEXT, updated_at TEXT NOT NULL,
  PRIMARY KEY (team, channel, thread_ts));
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY, parent_id TEXT, team TEXT NOT NULL, channel TEXT NOT NULL,
  thread_ts TEXT NOT NULL, state TEXT NOT NULL, cause TEXT NOT NULL, reason TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_state ON sessions (state);
CREATE INDEX IF NOT EXISTS sessions_thread ON sessions (team, channel, thread_ts);
CREATE INDEX IF NOT EXISTS sessions_updated ON sessions (updated_at);
CREATE TABLE IF NOT EXISTS approvals (
  id TEXT PRIMARY KEY, session_id TEXT NOT NULL, team TEXT NOT NULL, channel TEXT NOT NULL,
  thread_ts TEXT NOT NULL, tool TEXT NOT NULL, args_sha256 TEXT NOT NULL,
  requester TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL, decided_by TEXT, decided_at TEXT,
  card_channel TEXT, card_ts TEXT, approvers TEXT NOT NULL DEFAULT '', told_in TEXT);
CREATE INDEX IF NOT EXISTS approvals_status ON approvals (status, expires_at);
CREATE INDEX IF NOT EXISTS approvals_session ON approvals (session_id);
CREATE TABLE IF NOT EXISTS seen_events (event_id TEXT PRIMARY KEY, seen_at TEXT NOT NULL);
"""


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


class Index:
    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path

    @classmethod
    async def open(cls, path: Path) -> Index:
        conn = await aiosqlite.connect(path)
        # Before anything else: switching to WAL itself may wait for another process.
        await conn.execute("PRAGMA busy_timeout=5000")
        await conn.execute("PRAGMA journal_mode=WAL")
        # The files are the durable copy; the index may lose its last commits on power loss.
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.executescript(SCHEMA)
        await conn.commit()
        return cls(conn, path)

    async def close(self) -> None:
        await self._conn.close()

    async def _exec(self, sql: str, params: Sequence[Any] = ()) -> None:
        await self._conn.execute(sql, params)
        await self._conn.commit()

    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        self._conn.row_factory = aiosqlite.Row
        async with self._conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    # writes ---------------------------------------------------------------------
    async def put_session(self, record: SessionRecord) -> None:
        await self.put_sessions([record])

    async def put_sessions(self, records: Iterable[SessionRecord]) -> None:
        await self._conn.executemany(
            "INSERT OR REPLACE INTO sessions VALUES (?,?,?,?,?,?,?,?,?,?)",
            [
                (
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
                for r in records
            ],
        )
        await self._conn.commit()

    async def put_thread(self, thread: ThreadKey, head: str | None, at: str) -> None:
        await self._exec(
            "INSERT OR REPLACE INTO threads VALUES (?,?,?,?,?)",
            (thread.team, thread.channel, thread.thread_ts, head, at),
        )

    async def put_approvals(self, rows: Iterable[ApprovalRow]) -> None:
        await self._conn.executemany(
            "INSERT OR REPLACE INTO approvals VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (
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
                for a in rows
            ],
        )
        await self._conn.commit()

    async def mark_seen(self, event_id: str, at: str) -> bool:
        """Record an event id; False when it was seen before."""
        cursor = await self._conn.execute(
            "INSERT OR IGNORE INTO seen_events VALUES (?, ?)", (event_id, at)
        )
        await self._conn.commit()
        return cursor.rowcount == 1

    async def seen(self, event_id: str) -> bool:
        rows = await self._rows("SELECT 1 FROM seen_events WHERE event_id = ?", (event_id,))
        return bool(rows)

    # reads ----------------------------------------------------------------------
    async def sessions(
        self,
        *,
        states: Sequence[str] = (),
        thread: ThreadKey | None = None,
        channel: str | None = None,
        limit: int = 50,
    ) -> list[SessionRow]:
        where: list[str] = []
        params: list[Any] = []
        if states:
            where.append(f"state IN ({','.join('?' * len(states))})")
            params.extend(states)
        if thread is not None:
            where.append("team = ? AND channel = ? AND thread_ts = ?")
            params.extend([thread.team, thread.channel, thread.thread_ts])
        if channel is not None:
            where.append("channel = ?")
            params.append(channel)
        sql = "SELECT * FROM sessions"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY updated_at DESC, id LIMIT ?"
        params.append(limit)
        return [_session_row(r) for r in await self._rows(sql, params)]

    async def approvals(
        self,
        *,
        status: str | None = None,
        session_id: str | None = None,
        due_before: str | None = None,
        untold: bool = False,
        card_missing: bool = False,
        limit: int = 100,
    ) -> list[ApprovalRow]:
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
        sql = "SELECT * FROM approvals"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at, id LIMIT ?"
        params.append(limit)
        return [_approval_row(r) for r in await self._rows(sql, params)]

    async def approval(self, approval_id: str) -> ApprovalRow | None:
        rows = await self._rows("SELECT * FROM approvals WHERE id = ?", (approval_id,))
        return _approval_row(rows[0]) if rows else None

    async def thread_head(self, thread: ThreadKey) -> str | None:
        rows = await self._rows(
            "SELECT head FROM threads WHERE team = ? AND channel = ? AND thread_ts = ?",
            (thread.team, thread.channel, thread.thread_ts),
        )
        return str(rows[0]["head"]) if rows and rows[0]["head"] else None

    async def ping(self) -> None:
        """Raises unless the database answers (readiness)."""
        await self._rows("SELECT 1")

    async def tally(self) -> dict[str, Any]:
        """Sessions by state and pending approvals (covered by indexes: cheap to scrape)."""
        rows = await self._rows("SELECT state, COUNT(*) AS n FROM sessions GROUP BY state")
        pending = await self._rows("SELECT COUNT(*) AS n FROM approvals WHERE status = 'pending'")
        return {
            "sessions": {str(r["state"]): int(r["n"]) for r in rows},
            "approvals_pending": int(pending[0]["n"]),
        }

    async def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for table in ("threads", "sessions", "approvals", "seen_events"):
            rows = await self._rows(f"SELECT COUNT(*) AS n FROM {table}")
            out[table] = int(rows[0]["n"])
        return out


def _thread(row: aiosqlite.Row) -> ThreadKey:
    return ThreadKey(team=row["team"], channel=row["channel"], thread_ts=row["thread_ts"])


def _session_row(row: aiosqlite.Row) -> SessionRow:
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


def _approval_row(row: aiosqlite.Row) -> ApprovalRow:
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
