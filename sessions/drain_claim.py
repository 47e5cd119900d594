"""The flock behind ``Outbox.claim_drainer``, which also says whose it is.

The holder writes its pid into ``outbox/drain.lock`` (and clears it when it lets go), so a
process waiting for the claim can name who holds it: a terminal suspended while it delivers
otherwise holds up every delivery with nothing to show for whom. A process of a version
that wrote nothing, or one killed before it cleared its pid (the next holder overwrites
it), may leave the file saying nothing or something stale: it is for people, not a check.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from pathlib import Path

__all__ = ["DrainLock", "claim_holder", "try_claim"]


class DrainLock:
    """A held flock on ``outbox/drain.lock``; the kernel drops it if the process dies."""

    def __init__(self, fd: int, *, on_release: Callable[[], None]) -> None:
        self._fd: int | None = fd
        self._on_release = on_release

    def release(self) -> None:
        if self._fd is not None:
            self._on_release()
            try:
                os.ftruncate(self._fd, 0)
            except OSError:
                pass  # only a pid for people to read; the lock goes with the close
            os.close(self._fd)
            self._fd = None


def try_claim(path: Path) -> int | None:
    """The locked descriptor of ``path`` with this process's pid in it, or None at once."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except OSError:
        pass  # a full disk: the claim holds all the same, unnamed
    return fd


def claim_holder(path: Path) -> int | None:
    """The pid the claim's holder wrote, if it wrote one."""
    try:
        text = path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
