"""An index file that is no index signoff can use, told apart from one that is busy.

The index is a cache of the directories (I5). A file by its name that SQLite cannot read
(random bytes, a page torn by a bad copy) or that another program made (a table of one of
our names with other columns, or none of our tables) stopped every command, or worse was
taken for an empty index that says nothing is waiting. ``index_damage`` says which,
reading only: a terminal command must leave such a file as it is, for a person to look at
and for the bot, which may rebuild, to set aside (``set_aside_damaged``) under a name that
says why. A file that is busy, or that may not be read, is no damage: it raises as before.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from .busy_wait import busy_wait
from .clock import SystemClock
from .errors import IndexInUseError
from .home import Home
from .index_schema import SCHEMA
from .locks import try_file_lock
from .off_loop import off_loop

__all__ = ["SetAside", "index_damage", "set_aside_damaged"]

_TABLES = "SELECT name FROM sqlite_master WHERE type = 'table'"  # not its indexes
# What SQLite says of a file that is not a database, or one whose pages do not hold together
# (primary codes: Python gives the extended one, e.g. SQLITE_CORRUPT_INDEX, whose low byte is
# SQLITE_CORRUPT).
_DAMAGE_CODES = (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT)


@dataclass(frozen=True)
class SetAside:
    """Where a damaged index went, and why it was moved."""

    kept_as: Path
    reason: str


@functools.cache
def _our_columns() -> dict[str, list[str]]:
    """Each table of ``SCHEMA`` and its columns in order (the index's writes are
    ``INSERT … VALUES``: by position)."""
    db = sqlite3.connect(":memory:")
    try:
        db.executescript(SCHEMA)
        return {t: _columns(db, t) for (t,) in db.execute(_TABLES)}
    finally:
        db.close()


def _columns(db: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in db.execute("SELECT * FROM pragma_table_info(?)", (table,))]


def index_damage(path: Path) -> str | None:
    """Why the file at ``path`` is no index signoff can use, or None: it is one, or it is
    missing or empty (``reindex.index_missing``: rebuilt by whoever opens it). A table of
    ours that an older index lacks is no damage: opening it creates the table."""
    try:
        if path.stat().st_size == 0:
            return None
    except FileNotFoundError:
        return None
    try:
        db = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=busy_wait())
    except sqlite3.DatabaseError as exc:
        return _damage(exc)
    try:
        tables = {name for (name,) in db.execute(_TABLES)}
        if "sessions" not in tables:
            return "it holds no sessions table: it is not signoff's index"
        for table, columns in _our_columns().items():
            if table in tables and (found := _columns(db, table)) != columns:
                return f"its {table} table is not signoff's (columns {', '.join(found)})"
        return None
    except sqlite3.DatabaseError as exc:
        return _damage(exc)
    finally:
        db.close()


def _damage(exc: sqlite3.DatabaseError) -> str:
    """What SQLite said of the damage; an error that says nothing of the file's contents
    (locked, busy, no permission) is raised, as opening the index would."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in _DAMAGE_CODES:
        return str(exc)
    raise exc


async def set_aside_damaged(home: Home) -> SetAside | None:
    """Move a damaged index (with its ``-wal`` and ``-shm``) to ``index.sqlite3.damaged-
    <UTC time>``, for a start to rebuild it; None when it is no damaged index. Looked at
    first without a lock (a command may hold the index open through a long turn, which a
    start must not wait for), then moved holding ``index.lock`` exclusively, as a rebuild
    is: no process has the file open then (one failing to open it holds the lock for
    milliseconds, waited for up to ``busy_wait()``)."""
    if await off_loop(index_damage, home.index_path) is None:
        return None
    give_up = time.monotonic() + busy_wait()
    while True:
        with try_file_lock(home.index_lock) as held:
            if held:
                reason = await off_loop(index_damage, home.index_path)
                if reason is None:  # another start set it aside meanwhile
                    return None
                return SetAside(kept_as=_move_aside(home), reason=reason)
        if time.monotonic() > give_up:
            raise IndexInUseError(
                f"the index of {home.root} cannot be used and another signoff process has "
                "it open: stop that process, then start again"
            )
        await asyncio.sleep(0.05)


def _move_aside(home: Home) -> Path:
    stamp = SystemClock().now().strftime("%Y%m%dT%H%M%SZ")
    kept = home.root / f"{home.index_path.name}.damaged-{stamp}"
    n = 1
    while kept.exists():  # twice in one second
        n += 1
        kept = home.root / f"{home.index_path.name}.damaged-{stamp}-{n}"
    for suffix in ("-wal", "-shm", ""):  # the index itself last: its name is the signal
        moved = Path(f"{home.index_path}{suffix}")
        if moved.exists():
            os.replace(moved, f"{kept}{suffix}")
    return kept
