"""Cross-process locks on files (``fcntl.flock``).

An asyncio.Lock only serializes one process; a CLI decision, a second bot replica or a
recovery run are other processes, so every lock that guards state lives on disk.
flock locks belong to the open file description, so two opens in one process exclude
each other too, which keeps tasks in one event loop honest as well.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from .errors import LockBusyError

__all__ = [
    "dir_lock",
    "dir_lock_async",
    "file_lock",
    "file_lock_async",
    "flock_within",
    "held_exclusively",
    "hold_shared",
    "holder_pid",
    "try_dir_lock",
    "try_file_lock",
]


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing), blocking until it is free."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@contextmanager
def dir_lock(directory: Path, *, give_up_after: float | None = None) -> Iterator[None]:
    """Hold an exclusive lock on a directory itself: no lock file to create or list.

    Linux allows flock on a directory opened read-only; a rename keeps the lock (it
    belongs to the inode). ``give_up_after``: ``LockBusyError`` once it was not free for
    that long (its holder may be a stopped process, which holds it without end); None:
    wait on.
    """
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if give_up_after is None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        else:
            flock_within(fd, directory, give_up_after)
        yield
    finally:
        os.close(fd)


def flock_within(fd: int, path: Path, seconds: float) -> None:
    """``fd`` locked exclusively, polled with LOCK_NB (flock itself has no timeout)."""
    give_up, delay = time.monotonic() + seconds, 0.005
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= give_up:
                raise LockBusyError(
                    f"{path} stayed locked for {seconds:g} s (is a process holding it stopped?)"
                ) from None
            time.sleep(delay)
            delay = min(delay * 2, 0.1)


@contextmanager
def try_dir_lock(directory: Path) -> Iterator[bool]:
    """``dir_lock`` that yields False at once when someone else holds it."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


@contextmanager
def try_file_lock(path: Path) -> Iterator[bool]:
    """Yield True holding the lock, or False at once when someone else holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


_FILE = os.O_RDWR | os.O_CREAT
_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY


async def _flock_polling(
    path: Path,
    operation: int,
    poll: float,
    *,
    flags: int = _FILE,
    give_up_after: float | None = None,
) -> int:
    """``path`` opened and locked with ``operation``, polled with LOCK_NB so that a waiting
    task never blocks the event loop; closing the descriptor releases it.
    ``give_up_after``: ``LockBusyError`` once it was not free for that long (None: wait on)."""
    fd = os.open(path, flags, 0o644)
    try:
        delay = poll
        loop = asyncio.get_running_loop()
        give_up = None if give_up_after is None else loop.time() + give_up_after
        while True:
            try:
                fcntl.flock(fd, operation | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                if give_up is not None and loop.time() >= give_up:
                    raise LockBusyError(f"{path} stayed locked for {give_up_after:g} s") from None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.1)
    except BaseException:
        os.close(fd)
        raise


@asynccontextmanager
async def file_lock_async(path: Path, *, poll: float = 0.005) -> AsyncIterator[None]:
    """The async form of ``file_lock``."""
    fd = await _flock_polling(path, fcntl.LOCK_EX, poll)
    try:
        yield
    finally:
        os.close(fd)


@asynccontextmanager
async def dir_lock_async(
    directory: Path, *, poll: float = 0.005, give_up_after: float | None = None
) -> AsyncIterator[None]:
    """The async form of ``dir_lock``; ``give_up_after``: see ``_flock_polling``."""
    fd = await _flock_polling(
        directory, fcntl.LOCK_EX, poll, flags=_DIRECTORY, give_up_after=give_up_after
    )
    try:
        yield
    finally:
        os.close(fd)


async def hold_shared(path: Path, *, poll: float = 0.005, create: bool = True) -> int:
    """A shared lock on ``path`` (created if missing), waited for while someone holds it
    exclusively; ``os.close`` of the returned descriptor releases it (as does the end of
    the process). ``create`` False: opened for reading only, so that a reader of a home it
    cannot write still waits out a rebuild (flock needs no write access)."""
    return await _flock_polling(path, fcntl.LOCK_SH, poll, flags=_FILE if create else os.O_RDONLY)


def held_exclusively(path: Path) -> bool:
    """Does some process hold an exclusive lock on ``path`` right now?"""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def holder_pid(path: Path) -> int | None:
    """The process holding an exclusive flock on ``path``, as the kernel lists it in
    /proc/locks (Linux): the one that took it, so the holder never has to write down who
    it is. None when nobody does, or it cannot be known (no /proc, a pid namespace that
    does not show it); for people only: it may let go the moment after."""
    try:
        st = os.stat(path)
        with open("/proc/locks", encoding="ascii", errors="replace") as listing:
            lines = listing.read().splitlines()
    except OSError:
        return None
    inode = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    for line in lines:
        # "1: FLOCK  ADVISORY  WRITE 1234 fe:00:5327956 0 EOF"; a waiter's line has "->".
        fields = line.split()
        if fields[1:4] == ["FLOCK", "ADVISORY", "WRITE"] and fields[5:6] == [inode]:
            pid = int(fields[4]) if fields[4].isdigit() else 0
            return pid or None
    return None
