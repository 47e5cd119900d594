"""Rebuild the index from the directories alone (I5).

A session that ended but has no seal is sealed here, as recovery seals one: a crash came
between its final state and its seal, and recovery finds such a session only through
the index's last word about it ("running"), which a rebuilt index no longer holds. Left
unsealed, an approval it asked would be refused as if its seal had been removed. (A seal
is evidence against changes after the fact, not a secret: whoever can delete one can
write one, so sealing here gives nobody a power they lacked.)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from pathlib import Path

from .clock import SystemClock, utc_iso
from .errors import IndexInUseError
from .home import Home
from .index import Index
from .layout import migrate_flat_layout
from .locks import held_exclusively, try_file_lock
from .reindex_scan import ApprovalScanner, scan_home

__all__ = ["ApprovalScanner", "index_missing", "reindex"]


def index_missing(home: Home) -> bool:
    """No index, or a file of no bytes by its name: SQLite opens an empty file as a new,
    empty database, which would answer every question with nothing (no request waiting,
    none to expire). A rebuild never leaves one (it swaps in a finished file), so such a
    file is what a copy cut short, a full disk or an operator left: it holds nothing.
    Any other damage is SQLite's to report ("not a database", "malformed")."""
    try:
        return home.index_path.stat().st_size == 0
    except FileNotFoundError:
        return True


async def reindex(
    home: Home,
    *,
    scan_approvals: ApprovalScanner | None = None,
    if_missing: bool = False,
    processes: int | None = None,
) -> dict[str, int]:
    """Build a fresh index next to the old one and swap it in; returns row counts.

    It holds ``index.lock`` exclusively, which every process with the index open holds
    shared (``Index.open``): so two processes that start on a home without an index do not
    rebuild it over each other, and a rebuild never swaps the file out from under a
    running bot (whose later writes would then go to a file nobody opens again). Asked
    while the index is open elsewhere it raises ``IndexInUseError``; ``if_missing`` (a
    process starting) instead waits, and skips the rebuild when another process made one.
    ``processes``: worker processes that read the sessions (``reindex_scan``).
    """
    home.ensure()
    open_elsewhere = 0  # looks in a row that found the index missing yet open elsewhere
    while True:
        if if_missing and not index_missing(home):
            return {}
        with try_file_lock(home.index_lock) as held:
            if held:
                migrate_flat_layout(home)
                _remove_dead_rebuilds(home)
                if if_missing and not index_missing(home):
                    return {}
                return await _rebuild(home, scan_approvals, processes)
        if not if_missing:
            raise IndexInUseError(
                f"the index of {home.root} is open in another signoff process (a running "
                "bot or command): stop it, then run reindex again"
            )
        # Waiting is right while another process rebuilds; not for a deleted index that
        # a running process still has open (it would never end). Seen twice in a row: a
        # rebuild that failed just after this one's try left the lock free, not held.
        if held_exclusively(home.index_lock) or not index_missing(home):
            open_elsewhere = 0
            await asyncio.sleep(0.05)
            continue
        open_elsewhere += 1
        if open_elsewhere > 1:
            raise IndexInUseError(
                f"the index of {home.root} is missing while another signoff process has it "
                "open: stop that process, then start again"
            )


def _remove_dead_rebuilds(home: Home) -> None:
    """A rebuild is made under the lock held here, so one still on disk is what a killed
    reindex left (with its -wal and -shm): a whole index each, never read again."""
    for path in home.root.glob(f"{home.index_path.name}.rebuild-*"):
        path.unlink(missing_ok=True)


async def _rebuild(
    home: Home, scan_approvals: ApprovalScanner | None, processes: int | None
) -> dict[str, int]:
    fresh_path = home.root / f"index.sqlite3.rebuild-{secrets.token_hex(4)}"
    unreadable = sealed = 0
    built = False
    fresh: Index | None = None
    try:
        # Opened in the try: one that fails (a full disk) has created the file already.
        fresh = await Index.open(fresh_path)
        # Rows a batch per commit, as the workers send them (a commit per row was most
        # of a rebuild's time).
        at = utc_iso(SystemClock().now())
        scans = scan_home(home, scan_approvals, processes=processes)
        async with contextlib.aclosing(scans):
            async for scanned in scans:
                await fresh.put_session_values(scanned.sessions)
                await fresh.put_approval_values(scanned.approvals)
                await fresh.put_asker_values(scanned.askers)
                await fresh.put_thread_values(scanned.threads, at)
                unreadable += scanned.unreadable
                sealed += scanned.sealed
        counts = await fresh.counts()
        built = True
    finally:
        if fresh is not None:
            await fresh.close()
        if not built:  # failed or cancelled: nothing would read it, and it may be big
            for suffix in ("", "-wal", "-shm"):
                Path(f"{fresh_path}{suffix}").unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(f"{home.index_path}{suffix}").unlink(missing_ok=True)
    try:
        os.replace(fresh_path, home.index_path)
    except OSError as exc:
        # What is in the way is the index's name (a directory there), not the rebuild:
        # said so, and the rebuild, a whole index that nothing would read, removed.
        fresh_path.unlink(missing_ok=True)
        raise type(exc)(exc.errno, exc.strerror, str(home.index_path)) from exc
    counts["unreadable_sessions"] = unreadable
    counts["sealed_after_crash"] = sealed
    return counts
