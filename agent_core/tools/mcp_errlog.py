"""Where a stdio MCP server's stderr goes: its own log, kept out of signoff's output.

Opened when the server is first started (appending, so a restarted server's words follow
its last ones), capped by the watcher (``log_cap``), closed when the server is. Without a
log folder it goes nowhere.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TextIO

from .log_cap import cap_log

__all__ = ["ServerErrlog"]


class ServerErrlog:
    def __init__(self, *, log_dir: Path | None, name: str, limit: int) -> None:
        self._path = None if log_dir is None else log_dir / f"{name}.stderr.log"
        self._limit = limit
        self._file: TextIO | None = None

    def file(self) -> TextIO:
        """The open log (``os.devnull`` without a folder), opened on first use."""
        if self._file is None:
            if self._path is not None:
                self._path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self._path.open("a")  # appends: see log_cap
            else:
                self._file = open(os.devnull, "w")  # noqa: SIM115 (closed in close)
        return self._file

    async def cap(self) -> None:
        """Keep the log within its limit (off the event loop: it may read megabytes)."""
        if self._path is not None:
            await asyncio.to_thread(cap_log, self._path, self._limit)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
