"""One output stream of a command: a pipe the program writes, copied into the kept file.

The program never holds the kept file itself. When the call ends, signoff copies what the
pipe still holds and closes it, so a process that outlived the call — one that left the
command's process group (``setsid``, a daemon, ``ssh -f``), which no kill of that group
reaches — can no longer change what the session keeps: its next write fails (SIGPIPE).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
from typing import IO

__all__ = ["KeptPipe"]

log = logging.getLogger("signoff.tools")
# Bytes copied per wake-up of the loop, and at most when the call ends (a pipe holds 64 KiB
# unless its writer enlarged it; a writer that outlived the call may keep it full).
_CHUNK = 1 << 16
_WAKE_BUDGET = 1 << 20
_DRAIN_LIMIT = 8 << 20


class KeptPipe:
    def __init__(self, kept: IO[bytes]) -> None:
        self._kept = kept
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.read_fd, False)
        self._loop = asyncio.get_running_loop()
        self._reading = True
        self._closed = False
        self.lost = False  # output that could not be written to the kept file
        self._loop.add_reader(self.read_fd, self._copy, _WAKE_BUDGET)

    def started(self) -> None:
        """The program holds the write end now: signoff's copy of it closes."""
        if self.write_fd >= 0:
            os.close(self.write_fd)
            self.write_fd = -1

    def _stop_reading(self) -> None:
        if self._reading:
            self._reading = False
            self._loop.remove_reader(self.read_fd)

    def _copy(self, budget: int) -> None:
        """Copy what the pipe holds now, at most ``budget`` bytes."""
        copied = 0
        while copied < budget:
            try:
                chunk = os.read(self.read_fd, _CHUNK)
            except BlockingIOError:
                break
            if not chunk:  # every writer closed it
                self._stop_reading()
                break
            copied += len(chunk)
            self._keep(chunk)
        self._keep(b"")  # its size is what the runaway check reads

    def _keep(self, chunk: bytes) -> None:
        if self.lost:
            return  # read all the same: a program blocked on a full pipe would hang
        try:
            if chunk:
                written = self._kept.write(chunk)
                if written is not None and written < len(chunk):
                    raise OSError(errno.ENOSPC, "the kept file took only part of a write")
            else:
                self._kept.flush()
        except OSError as exc:  # the kept file cannot take it (a full disk)
            self.lost = True
            log.warning("a command's output could not be kept, the rest is dropped: %s", exc)

    def close(self) -> None:
        """Copy what is left in the pipe, then close it. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self.started()
        if self._reading:
            self._stop_reading()
            self._copy(_DRAIN_LIMIT)
        os.close(self.read_fd)
