"""How each Slack write of a thread ended: ``threads/<team>/<channel>/<ts>/outbox.jsonl``.

One ``OutboxDone`` per line, appended by the home's one drainer and fsynced before the
entry's pending file goes, so a crash leaves an entry pending or done, never neither. A
thread's writes share the file: a sent reply costs a line, not an inode (issue 14). The
first line for an id stands. A torn last line (a crash mid-append) reads as nothing: its
entry is still pending, so it is sent again or found in Slack (``adopted``); the next
append ends the torn line first.

Every process reads the logs; each remembers, for the threads it looked at last, where
each id's line is, and reads only what was appended since (``FollowedLogs``).
"""

from __future__ import annotations

import json
from pathlib import Path

from .atomic import append_line, fsync_dir, make_dirs
from .followed_logs import FollowedLogs
from .home import Home
from .records import ThreadKey

__all__ = ["DoneLogs"]

LOG_NAME = "outbox.jsonl"


# Where each id's first line is in a thread's log: its byte range.
_Spans = dict[str, tuple[int, int]]


class DoneLogs:
    def __init__(self, home: Home, *, threads_remembered: int = 128) -> None:
        self.home = home
        # Enqueue and the drainer look up from disk threads, each thread's log in turn.
        self._followed: FollowedLogs[ThreadKey, _Spans] = FollowedLogs(
            keep=threads_remembered, fresh=dict, take=_remember
        )

    def path(self, thread: ThreadKey) -> Path:
        return self.home.thread_dir(thread) / LOG_NAME

    def line(self, thread: ThreadKey, entry_id: str) -> bytes | None:
        """The raw record of ``entry_id`` in its thread's log, or None."""
        path = self.path(thread)
        with self._followed.caught_up(thread, path) as spans:
            span = spans.get(entry_id)
        if span is None:
            return None
        with path.open("rb") as log:
            log.seek(span[0])
            return log.read(span[1] - span[0])

    def lines(self, thread: ThreadKey) -> list[bytes]:
        """The raw record of every id in the thread's log (its first line), oldest first."""
        path = self.path(thread)
        with self._followed.caught_up(thread, path) as known:
            spans = sorted(known.values())
        if not spans:
            return []
        with path.open("rb") as log:
            data = log.read(spans[-1][1])
        return [data[start:end] for start, end in spans]

    def append(self, thread: ThreadKey, records: list[tuple[str, bytes]]) -> None:
        """Append ``(id, json)`` records of ids the log does not hold yet, and fsync them."""
        path = self.path(thread)
        with self._followed.caught_up(thread, path) as known:
            fresh: dict[str, bytes] = {}
            for entry_id, record in records:
                if entry_id not in known:
                    fresh.setdefault(entry_id, record)
        if not fresh:
            return
        make_dirs(path.parent)
        created = not path.exists()
        append_line(path, b"\n".join(fresh.values()).decode())
        if created:
            fsync_dir(path.parent)


def _remember(known: _Spans, start: int, raw: bytes) -> None:
    try:
        record = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return  # a line a crash tore, ended by the next append
    entry_id = record.get("id") if isinstance(record, dict) else None
    if isinstance(entry_id, str):
        known.setdefault(entry_id, (start, start + len(raw)))
