"""Threads with undrained inbox messages, as marker files sharded like the threads.

Start-up recovery must find unprocessed messages without walking every thread on disk,
so ingest drops a marker here after the message is durable, and the worker removes it
only when the inbox is empty. Recovery then costs what is pending, not what is stored.

    queue/<shard>/<team>.<channel>.<thread_ts>     shard: the thread directory's

A burst of new threads would otherwise fill one directory. Markers of a home from
before the shards (straight under ``queue/``) are still read and cleared.
"""

from __future__ import annotations

import os
from pathlib import Path

from .atomic import fsync_dir, make_dirs
from .home import Home, thread_shard
from .records import ThreadKey

__all__ = ["WorkQueue"]


def _name(thread: ThreadKey) -> str:
    return f"{thread.team}.{thread.channel}.{thread.thread_ts}"


def _thread(name: str) -> ThreadKey | None:
    team, _, rest = name.partition(".")
    channel, _, ts = rest.partition(".")
    try:
        return ThreadKey(team=team, channel=channel, thread_ts=ts)
    except ValueError:
        return None


class WorkQueue:
    def __init__(self, home: Home) -> None:
        self.root = home.root / "queue"

    def _path(self, thread: ThreadKey) -> Path:
        return self.root / thread_shard(thread.thread_ts) / _name(thread)

    def mark(self, thread: ThreadKey) -> None:
        path = self._path(thread)
        if path.exists():
            return
        make_dirs(path.parent)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o644))
        fsync_dir(path.parent)

    def clear(self, thread: ThreadKey) -> None:
        self._path(thread).unlink(missing_ok=True)
        (self.root / _name(thread)).unlink(missing_ok=True)  # from before the shards

    def threads(self) -> list[ThreadKey]:
        try:
            names = os.listdir(self.root)
        except FileNotFoundError:
            return []
        found: list[str] = []
        for name in names:
            if len(name) == 2:  # a shard (a marker's name is longer)
                try:
                    found += os.listdir(self.root / name)
                except NotADirectoryError:
                    pass
            else:
                found.append(name)
        threads = (_thread(name) for name in sorted(set(found)))
        return [thread for thread in threads if thread is not None]
