"""What one turn's index writes cost the disk: every page a commit touches is written to
the WAL again, and a long thread makes two commits a turn. A session moving to its next
state rewrites only the pages of what changed, not every index of the row, and those
pages are small (1 KiB: a row is ~200 bytes, so a 4 KiB page rewrote 4 KiB for it)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from engine_support import OLD_INDEX_SHAPE, THREAD

from sessions import FixedClock, Home, Index, SessionState, SessionStore, utc_iso


def _wal_bytes(path: Path) -> int:
    try:
        return os.path.getsize(f"{path}-wal")
    except FileNotFoundError:
        return 0


def _page_size(path: Path) -> int:
    with sqlite3.connect(path) as db:
        size: int = db.execute("PRAGMA page_size").fetchone()[0]
        return size


async def test_a_state_change_and_a_head_move_rewrite_few_pages(
    home: Home, clock: FixedClock, tmp_path: Path
) -> None:
    store = SessionStore(home, clock=clock)
    index = await Index.open(tmp_path / "index.sqlite3")
    try:
        # Enough rows that each index has its own pages, as in any real home.
        records = [
            store.create(
                thread=THREAD,
                parent_id=None,
                cause="message",
                session_md="#\n",
                session_id=f"sess_{n * 0x9E3779B1 % 2**48:012x}",  # spread, and the same each run
            )
            for n in range(300)
        ]
        await index.put_sessions(records)
        await index.put_thread(THREAD, records[-1].id, utc_iso(clock.now()))
        record = records[150]

        frame = _page_size(index.path) + 24  # a WAL frame: the page and its header
        before = _wal_bytes(index.path)
        finished = store.transition(
            record.id, expected=SessionState.CREATED, new=SessionState.FAILED
        )
        await index.put_session(finished)
        state_change = _wal_bytes(index.path) - before

        before = _wal_bytes(index.path)
        await index.put_thread(THREAD, record.id, utc_iso(clock.now()))
        head_move = _wal_bytes(index.path) - before

        # The row's page, the state index (out of one state's part, into another's) and the
        # time index; the thread's row.
        assert state_change <= 4 * frame, (state_change, frame)
        assert head_move <= frame, (head_move, frame)
        # What reaches the disk: 4 small pages, not 4 of 4 KiB (16 KiB).
        assert state_change <= 5 * 1024, state_change
        [row] = [r for r in await index.sessions(states=["failed"])]
        assert row.id == record.id and row.thread == THREAD and row.cause == "message"
        assert await index.thread_head(THREAD) == record.id
    finally:
        await index.close()


async def test_an_index_built_before_keeps_working(
    home: Home, clock: FixedClock, tmp_path: Path
) -> None:
    path = tmp_path / "index.sqlite3"
    with sqlite3.connect(path) as old:  # the shape signoff created before: rowid tables
        old.executescript(OLD_INDEX_SHAPE)
    store = SessionStore(home, clock=clock)
    record = store.create(thread=THREAD, parent_id=None, cause="message", session_md="#\n")
    index = await Index.open(path)
    try:
        await index.put_session(record)
        await index.put_thread(THREAD, record.id, utc_iso(clock.now()))
        done = store.transition(record.id, expected=SessionState.CREATED, new=SessionState.FAILED)
        await index.put_session(done)
        await index.put_thread(THREAD, None, utc_iso(clock.now()))
        assert [(r.id, r.state) for r in await index.sessions()] == [(record.id, "failed")]
        assert await index.thread_head(THREAD) is None
    finally:
        await index.close()
