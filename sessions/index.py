"""The SQLite index: fast look-ups over what the directories hold.

Never the only copy of anything (I5): every row can be rebuilt by ``reindex`` from the
files, and the files are always written first, so after a crash the index lags the disk
by at most one step and readers that act on a row re-read the file.

Every statement's cursor is closed before the call returns: a cursor left for the garbage
collector resets its statement on the database thread while the next write runs there
(``sqlite3.InterfaceError`` under load).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from .index_rows import (
    ApprovalRow,
    ApprovalValues,
    AskerValues,
    SessionRow,
    SessionValues,
    ThreadValues,
    approval_filter,
    approval_row,
    approval_values,
    asker_values,
    session_row,
    session_values,
)
from .index_schema import connected, prepare
from .index_writes import GroupCommit
from .locks import hold_shared
from .records import SessionRecord, ThreadKey

__all__ = ["ApprovalRow", "Index", "SessionRow"]

# A request ``?`` asked: as its first requester, or as one of the others.
_ASKED = "(requester = ? OR id IN (SELECT approval_id FROM approval_askers WHERE user = ?))"
# The same for pending requests as a UNION: with ``_ASKED``'s OR, SQLite read every
# pending row to find one person's (a Home tab's publish in a home with 100k waiting).
REQUESTED_BY = (
    "SELECT * FROM approvals WHERE requester = ? AND status = 'pending' UNION "
    "SELECT approvals.* FROM approval_askers JOIN approvals"
    " ON approvals.id = approval_askers.approval_id"
    " WHERE approval_askers.user = ? AND approvals.status = 'pending' "
    "ORDER BY created_at DESC, id LIMIT ?"
)


class Index:
    def __init__(self, conn: aiosqlite.Connection, path: Path, *, held: int | None = None) -> None:
        self._conn = conn
        self.path = path
        self._puts = GroupCommit(conn)
        self._held = held  # the descriptor of the shared ``in_use`` lock, if any

    @classmethod
    async def open(cls, path: Path, *, in_use: Path | None = None) -> Index:
        """Open (creating) the index at ``path``. ``in_use``: a lock file held shared while
        it is open, so that a rebuild (which holds it exclusively) never swaps the file
        out from under this process, nor starts while it may write."""
        held = await hold_shared(in_use) if in_use is not None else None
        try:
            return await cls._connect(path, held)
        except BaseException:
            if held is not None:
                os.close(held)
            raise

    @classmethod
    async def _connect(cls, path: Path, held: int | None) -> Index:
        conn = await connected(path)
        try:
            return cls(await prepare(conn), path, held=held)
        except BaseException:
            # Not a database, or not writable: its thread would keep the process alive.
            with contextlib.suppress(Exception):
                await conn.close()
            raise

    async def close(self) -> None:
        try:
            await self._puts.drain()
            await self._conn.close()
        finally:
            if self._held is not None:
                held, self._held = self._held, None
                os.close(held)

    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        # One step on the connection's thread, the statement and its rows: as two, a write
        # queued between them ran while this read held its WAL snapshot, and one from another
        # process meanwhile made that write fail at once, "database is locked"
        # (SQLITE_BUSY_SNAPSHOT, which no busy timeout waits out).
        return list(await self._conn.execute_fetchall(sql, params))

    # writes ---------------------------------------------------------------------
    async def put_session(self, record: SessionRecord) -> None:
        await self.put_sessions([record])

    async def put_sessions(self, records: Iterable[SessionRecord]) -> None:
        await self.put_session_values([session_values(r) for r in records])

    async def put_session_values(self, rows: Iterable[SessionValues]) -> None:
        await self._puts.put(
            "INSERT INTO sessions VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET"
            " state = excluded.state, reason = excluded.reason, updated_at = excluded.updated_at",
            list(rows),
        )

    async def put_thread(self, thread: ThreadKey, head: str | None, at: str) -> None:
        await self.put_thread_values([(thread.team, thread.channel, thread.thread_ts, head)], at)

    async def put_thread_values(self, rows: Iterable[ThreadValues], at: str) -> None:
        await self._puts.put(
            "INSERT INTO threads VALUES (?,?,?,?,?) ON CONFLICT (team, channel, thread_ts)"
            " DO UPDATE SET head = excluded.head, updated_at = excluded.updated_at",
            [(*row, at) for row in rows],
        )

    async def put_approvals(self, rows: Iterable[ApprovalRow]) -> None:
        listed = list(rows)
        # Gathered, so that both usually join one commit.
        await asyncio.gather(
            self.put_approval_values([approval_values(a) for a in listed]),
            self.put_asker_values([v for a in listed for v in asker_values(a)]),
        )

    async def put_asker_values(self, rows: Iterable[AskerValues]) -> None:
        await self._puts.put("INSERT OR IGNORE INTO approval_askers VALUES (?,?)", list(rows))

    async def put_approval_values(self, rows: Iterable[ApprovalValues]) -> None:
        await self._puts.put(
            "INSERT OR REPLACE INTO approvals VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            list(rows),
        )

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
        return [session_row(r) for r in await self._rows(sql, params)]

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
        where, params = approval_filter(status, session_id, due_before, untold, card_missing)
        sql = "SELECT * FROM approvals"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at, id LIMIT ?"
        return [approval_row(r) for r in await self._rows(sql, [*params, limit])]

    async def iter_approvals(
        self,
        *,
        status: str | None = None,
        due_before: str | None = None,
        untold: bool = False,
        page: int = 1000,
    ) -> AsyncIterator[ApprovalRow]:
        """Every matching row, oldest first, a page at a time: no cap, no row skipped."""
        where, params = approval_filter(status, None, due_before, untold, False)
        async for row in self._pages("approvals", ("created_at", "id"), where, params, page):
            yield approval_row(row)

    async def iter_sessions(
        self, *, states: Sequence[str] = (), page: int = 1000
    ) -> AsyncIterator[SessionRow]:
        """Every session in ``states``, by id, a page at a time."""
        where: list[str] = []
        if states:
            where.append(f"state IN ({','.join('?' * len(states))})")
        async for row in self._pages("sessions", ("id",), where, list(states), page):
            yield session_row(row)

    async def _pages(
        self, table: str, keys: tuple[str, ...], where: list[str], params: list[Any], page: int
    ) -> AsyncIterator[aiosqlite.Row]:
        """Keyset pagination: each page starts after the last row's ``keys``."""
        columns = ", ".join(keys)
        after: tuple[Any, ...] = ("",) * len(keys)
        while True:
            marks = ", ".join("?" * len(keys))
            clauses = [f"({columns}) > ({marks})", *where]
            sql = f"SELECT * FROM {table} WHERE {' AND '.join(clauses)} ORDER BY {columns} LIMIT ?"
            rows = await self._rows(sql, [*after, *params, page])
            for row in rows:
                yield row
            if len(rows) < page:
                return
            after = tuple(rows[-1][k] for k in keys)

    async def approval(self, approval_id: str) -> ApprovalRow | None:
        rows = await self._rows("SELECT * FROM approvals WHERE id = ?", (approval_id,))
        return approval_row(rows[0]) if rows else None

    async def requested_by(self, user: str, *, limit: int = 20) -> list[ApprovalRow]:
        """Pending requests ``user`` made (or asked with others), newest first."""
        rows = await self._rows(REQUESTED_BY, (user, user, limit))
        return [approval_row(r) for r in rows]

    async def decided_for(self, user: str, *, since: str, limit: int = 20) -> list[ApprovalRow]:
        """Decisions since ``since`` that ``user`` made or that were on their requests."""
        sql = (
            "SELECT * FROM approvals WHERE decided_at >= ? AND status != 'pending' "
            f"AND ({_ASKED} OR instr(' ' || decided_by || ' ', ?) > 0) "
            "ORDER BY decided_at DESC, id LIMIT ?"
        )
        rows = await self._rows(sql, (since, user, user, f" {user} ", limit))
        return [approval_row(r) for r in rows]

    async def approval_with_card(self, channel: str, ts: str) -> ApprovalRow | None:
        rows = await self._rows(
            "SELECT * FROM approvals WHERE card_channel = ? AND card_ts = ?", (channel, ts)
        )
        return approval_row(rows[0]) if rows else None

    async def thread_head(self, thread: ThreadKey) -> str | None:
        rows = await self._rows(
            "SELECT head FROM threads WHERE team = ? AND channel = ? AND thread_ts = ?",
            (thread.team, thread.channel, thread.thread_ts),
        )
        return str(rows[0]["head"]) if rows and rows[0]["head"] else None

    async def ping(self) -> None:
        """Raises unless the database answers (readiness): this connection, and the file
        write-locked for a moment from a connection of its own. ``SELECT 1`` alone touches
        no file, and another process holding the write lock stops every turn's writes."""
        await self._rows("SELECT 1")
        await asyncio.to_thread(_write_lock_free, self.path)

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
        for table in ("threads", "sessions", "approvals"):
            rows = await self._rows(f"SELECT COUNT(*) AS n FROM {table}")
            out[table] = int(rows[0]["n"])
        return out


def _write_lock_free(path: Path) -> None:
    # mode=rw: a probe never creates an index that is gone (that is for Index.open).
    uri = Path(os.path.abspath(path)).as_uri() + "?mode=rw"
    conn = sqlite3.connect(uri, uri=True, timeout=1.0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")  # waits up to the timeout, like a write would
        conn.execute("ROLLBACK")
    finally:
        conn.close()
