"""Rebuild the index from the directories alone (I5)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path

from .clock import SystemClock, utc_iso
from .errors import SessionsError
from .home import Home
from .index import ApprovalRow, Index
from .locks import file_lock_async
from .records import SessionRecord
from .store import SessionStore
from .threads import ThreadDir, iter_thread_keys

__all__ = ["ApprovalScanner", "reindex"]

# The approvals package knows its own files; it hands reindex a scanner for one session.
ApprovalScanner = Callable[[Path, SessionRecord], Iterable[ApprovalRow]]


async def reindex(
    home: Home, *, scan_approvals: ApprovalScanner | None = None, if_missing: bool = False
) -> dict[str, int]:
    """Build a fresh index next to the old one and swap it in; returns row counts.

    Serialized across processes by a lock, so two processes that start on a home without
    an index do not rebuild it over each other; ``if_missing`` skips the rebuild when
    another process finished one while this one waited.
    """
    home.ensure()
    async with file_lock_async(home.root / "index.lock"):
        if if_missing and home.index_path.exists():
            return {}
        return await _rebuild(home, scan_approvals)


async def _rebuild(home: Home, scan_approvals: ApprovalScanner | None) -> dict[str, int]:
    fresh_path = home.root / f"index.sqlite3.rebuild-{secrets.token_hex(4)}"
    store = SessionStore(home)
    fresh = await Index.open(fresh_path)
    problems = 0
    try:
        batch: list[SessionRecord] = []
        approvals: list[ApprovalRow] = []
        for session_id in store.all_ids():
            try:
                record = store.load(session_id)
            except SessionsError:
                problems += 1
                continue
            batch.append(record)
            if scan_approvals is not None:
                try:
                    approvals.extend(scan_approvals(home.session_dir(session_id), record))
                except (SessionsError, ValueError):
                    problems += 1  # one bad capsule must not stop the rebuild
            if len(batch) >= 1000:
                await fresh.put_sessions(batch)
                batch.clear()
        await fresh.put_sessions(batch)
        await fresh.put_approvals(approvals)
        now = utc_iso(SystemClock().now())
        for thread in iter_thread_keys(home):
            tdir = ThreadDir(home, thread)
            await fresh.put_thread(thread, tdir.head(), now)
            for message in (*tdir.inbox.consumed(), *tdir.inbox.pending()):
                if message.event_id:
                    await fresh.mark_seen(message.event_id, message.received_at)
        counts = await fresh.counts()
    finally:
        await fresh.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{home.index_path}{suffix}").unlink(missing_ok=True)
    os.replace(fresh_path, home.index_path)
    counts["unreadable_sessions"] = problems
    return counts
