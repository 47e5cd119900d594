"""The index opened for reading only, for the read-only commands on a home they cannot
write: a snapshot mounted read-only, or an operator without write access to it.

``Index.open`` may not serve there: it opens its lock file for writing, sets pragmas and
creates the schema (and ``Engine.open_index`` first creates directories and migrates a
layout). Here nothing is written: the lock is taken shared through a read-only
descriptor when its file is there, and the database is opened ``mode=ro``; a WAL
database whose ``-shm`` file is not there cannot be opened so without creating it, and
is then opened ``immutable`` (nothing can change a read-only file system's copy; beside
an operator's running bot the ``-shm`` file is there and ``mode=ro`` serves).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from urllib.parse import quote

import aiosqlite

from .busy_wait import busy_wait
from .errors import ReadOnlyHomeError
from .home import Home
from .index import Index
from .index_schema import connected
from .locks import hold_shared

__all__ = ["can_write", "open_index_read_only"]


def can_write(home: Home) -> bool:
    """Whether opening the index the usual way can work: the home, its index and its lock
    writable (``os.access`` also says no on a read-only mount)."""
    paths = (home.root, home.index_path, home.index_lock)
    return all(os.access(p, os.W_OK) for p in paths if p == home.root or p.exists())


async def _connect(uri: str) -> aiosqlite.Connection:
    conn = await connected(uri, uri=True)
    try:
        conn.row_factory = aiosqlite.Row
        # Opening is lazy: the first read says whether this way can read it at all.
        async with conn.execute(f"PRAGMA busy_timeout={round(busy_wait() * 1000)}"):
            pass
        async with conn.execute("SELECT count(*) FROM sessions"):
            pass
    except BaseException:
        with contextlib.suppress(Exception):
            await conn.close()
        raise
    return conn


async def open_index_read_only(home: Home) -> Index:
    """The index, read only; a ReadOnlyHomeError with one line saying what to do when it
    is missing or cannot be read so."""
    path = home.index_path
    if not path.is_file():
        raise ReadOnlyHomeError(
            f"SIGNOFF_HOME {home.root} is read-only and has no readable index (no "
            f"{path.name}): copy the home somewhere writable, or run `signoff reindex` where "
            "it can be written"
        )
    held = await hold_shared(home.index_lock, create=False) if home.index_lock.exists() else None
    base = f"file:{quote(str(path))}"
    try:
        try:
            conn = await _connect(f"{base}?mode=ro")
        except sqlite3.OperationalError:
            conn = await _connect(f"{base}?immutable=1")
    except (sqlite3.Error, OSError) as exc:
        if held is not None:
            os.close(held)
        raise ReadOnlyHomeError(
            f"SIGNOFF_HOME {home.root} is read-only and has no readable index ({exc}): copy "
            "the home somewhere writable, or run `signoff reindex` where it can be written"
        ) from exc
    except BaseException:
        if held is not None:
            os.close(held)
        raise
    return Index(conn, path, held=held)
