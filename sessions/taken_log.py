"""Which messages of a thread a session has recorded: ``inbox/taken.jsonl``.

One line ``{"ts": …}`` a message, appended and fsynced by the thread's worker (which
holds the thread's lock) once the message is in a session's transcript, before it leaves
``new/``. A delivery looks here to refuse a message Slack sends again after it was
taken. Its text is in the transcript and the trace, so a line holds only the ts: a
message used to stay behind as a file in ``cur/``, an inode each (issue 14); homes from
before keep their ``cur/``, which ``Inbox`` still reads.

Only complete lines count: a torn last line (a crash mid-append) is no record (a JSON
object cut short never parses), and the next append ends it first. Every process
remembers, for the threads it looked at last, what it read and how far, and reads only
what was appended since (a ``stat`` when nothing was).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from .atomic import append_line, fsync_dir
from .ids import check_slack_ts
from .jsonl import lines_since

__all__ = ["TakenLog"]

_REMEMBERED = 256  # threads per process


@dataclass
class _Read:
    read_to: int = 0
    ts: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)


_known: OrderedDict[Path, _Read] = OrderedDict()
_lock = threading.Lock()  # deliveries check from the ingest's threads


class TakenLog:
    def __init__(self, path: Path) -> None:
        self.path = path

    def has(self, ts: str) -> bool:
        with _lock:
            return ts in self._caught_up().seen

    def all(self) -> list[str]:
        """Every ts taken, in the order it was."""
        with _lock:
            return list(self._caught_up().ts)

    def add(self, ts: str) -> None:
        """Record ``ts`` as taken (durable on return); a second add of it is a no-op."""
        line = json.dumps({"ts": check_slack_ts(ts)})
        if self.has(ts):
            return
        created = not self.path.exists()
        append_line(self.path, line)
        if created:
            fsync_dir(self.path.parent)

    def _caught_up(self) -> _Read:
        known = _known.pop(self.path, None) or _Read()
        _known[self.path] = known
        while len(_known) > _REMEMBERED:
            _known.popitem(last=False)
        appended = lines_since(self.path, known.read_to)
        if appended is None:  # not this file any more (a restored home): start over
            known = _known[self.path] = _Read()
            appended = lines_since(self.path, 0) or (0, [])
        known.read_to, lines = appended
        for _, raw in lines:
            ts = _ts_of(raw)
            if ts is not None and ts not in known.seen:
                known.seen.add(ts)
                known.ts.append(ts)
        return known


def _ts_of(raw: bytes) -> str | None:
    try:
        record = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None  # a line a crash tore, ended by the next append
    ts = record.get("ts") if isinstance(record, dict) else None
    if not isinstance(ts, str):
        return None
    try:
        return check_slack_ts(ts)
    except ValueError:
        return None
