"""Threads with undrained inbox messages, as marker files in one flat directory.

Start-up recovery must find unprocessed messages without walking every thread on disk,
so ingest drops a marker here after the message is durable, and the worker removes it
only when the inbox is empty. Recovery then costs what is pending, not what is stored.
"""

from __future__ import annotations

import os
from pathlib import Path

from .atomic import fsync_dir
from .home import Home
from .records import ThreadKey

__all__ = ["WorkQueue"]


class WorkQueue:
    def __init__(self, home: Home) -> None:
        self.root = home.root / "queue"

    def _path(self, thread: ThreadKey) -> Path:
        return self.root / f"{thread.team}.{thread.channel}.{thread.thread_ts}"

    def mark(self, thread: ThreadKey) -> None:
        path = self._path(thread)
        if path.exists():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o644))
        fsync_dir(self.root)

    def clear(self, thread: ThreadKey) -> None:
        self._path(thread).unlink(missing_ok=True)

    def threads(self) -> list[ThreadKey]:
        try:
            names = sorted(os.listdir(self.root))
        except FileNotFoundError:
            return []
        out: list[ThreadKey] = []
        for name in names:
            team, _, rest = name.partition(".")
            channel, _, ts = rest.partition(".")
            try:
                out.append(ThreadKey(team=team, channel=channel, thread_ts=ts))
            except ValueError:
                continue
        return out
