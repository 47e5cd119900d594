"""What one turn's index writes cost the disk: every page a commit touches is written to
the WAL again (4 KiB each), and a long thread makes two commits a turn. A session moving
to its next state rewrites only the pages of what changed, not every index of the row."""

from __future__ import annotations

import os
from pathlib import Path

from engine_support import THREAD

from sessions import FixedClock, Home, Index, SessionState, SessionStore, utc_iso

PAGE = 4096 + 24  # a WAL frame: the page and its header


def _wal_frames(path: Path) -> int:
    try:
        return os.path.getsize(f"{path}-wal") // PAGE
    except FileNotFoundError:
        return 0


async def test_a_state_change_and_a_head_move_rewrite_few_pages(
    home: Home, clock: FixedClock, tmp_path: Path
) -> None:
    store = SessionStore(home, clock=clock)
    index = await Index.open(tmp_path / "index.sqlite3")
    try:
        # Enough rows that each index has its own pages, as in any real home.
        records = [
            store.create(thread=THREAD, parent_id=None, cause="message", session_md="#\n")
            for _ in range(300)
        ]
        await index.put_sessions(records)
        await index.put_thread(THREAD, records[-1].id, utc_iso(clock.now()))
        record = records[150]

        before = _wal_frames(index.path)
        finished = store.transition(
            record.id, expected=SessionState.CREATED, new=SessionState.FAILED
        )
        await index.put_session(finished)
        state_change = _wal_frames(index.path) - before

        before = _wal_frames(index.path)
        await index.put_thread(THREAD, record.id, utc_iso(clock.now()))
        head_move = _wal_frames(index.path) - before

        # The row's page and the two indexes its state and time are in; the thread's row.
        assert state_change <= 3, state_change
        assert head_move <= 1, head_move
        [row] = [r for r in await index.sessions(states=["failed"])]
        assert row.id == record.id and row.thread == THREAD and row.cause == "message"
        assert await index.thread_head(THREAD) == record.id
    finally:
        await index.close()
