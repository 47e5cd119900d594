"""The index's tables, and opening a connection to them.

A table added here is created in an index built by an earlier version the next time it
is opened (``CREATE … IF NOT EXISTS``), and an earlier version opening this index ignores
it: so new facts go into new tables, never new columns of old ones (a rollback's
``INSERT … VALUES`` would no longer match the row).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiosqlite

from .busy_wait import busy_wait

__all__ = ["SCHEMA", "connected", "prepare"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS threads (
  team TEXT NOT NULL, channel TEXT NOT NULL, thread_ts TEXT NOT NULL,
  head TEXT, updated_at TEXT NOT NULL,
  PRIMARY KEY (team, channel, thread_ts)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY, parent_id TEXT, team TEXT NOT NULL, channel TEXT NOT NULL,
  thread_ts TEXT NOT NULL, state TEXT NOT NULL, cause TEXT NOT NULL, reason TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL) WITHOUT ROWID;
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
CREATE INDEX IF NOT EXISTS approvals_requester ON approvals (requester, status);
CREATE INDEX IF NOT EXISTS approvals_decided ON approvals (decided_at);
CREATE INDEX IF NOT EXISTS approvals_card ON approvals (card_channel, card_ts);
-- Who else asked (the approvals row keeps the first asker): one row per co-requester,
-- none for the usual request with one asker. Create-only: a request's askers never change.
CREATE TABLE IF NOT EXISTS approval_askers (
  user TEXT NOT NULL, approval_id TEXT NOT NULL,
  PRIMARY KEY (user, approval_id)) WITHOUT ROWID;
"""


async def connected(database: str | Path, *, uri: bool = False) -> aiosqlite.Connection:
    """An aiosqlite connection, open. aiosqlite stops its thread on a failed connect
    without waiting for it; the thread's last word then reaches a closed event loop (a
    traceback at exit): so it is waited for here."""
    conn = aiosqlite.connect(database, uri=uri)
    try:
        await conn
    except BaseException:
        await asyncio.to_thread(conn._thread.join)
        raise
    return conn


async def prepare(conn: aiosqlite.Connection) -> aiosqlite.Connection:
    """Set the pragmas and create what is missing of the schema."""
    conn.row_factory = aiosqlite.Row  # set once, before any statement runs
    # Before anything else: switching to WAL itself may wait for another process.
    # The files are the durable copy; the index may lose its last commits on power loss.
    # 1 KiB pages: a commit writes each page it touched whole, ~9 a turn for rows of
    # ~200 bytes (41 KB a turn at 4 KiB, 15 at 1). New files only (or a reindex).
    busy = f"busy_timeout={round(busy_wait() * 1000)}"
    pragmas = (busy, "page_size=1024", "journal_mode=WAL", "synchronous=NORMAL")
    for pragma in pragmas:
        async with conn.execute(f"PRAGMA {pragma}"):
            pass
    async with conn.executescript(SCHEMA):
        pass
    await conn.commit()
    return conn
