"""Which messages of a thread a session has recorded: ``inbox/taken.jsonl``.

One line ``{"ts": …}`` a message, appended and fsynced by the thread's worker (which
holds the thread's lock) once the message is in a session's transcript, before it leaves
``new/``. A delivery looks here to refuse a message Slack sends again after it was
taken. Its text is in the transcript and the trace, so a line holds only the ts (and
``"withdrawn": true`` for a message its author deleted before it was taken: no session
has it, and a redelivery of it must not bring it back; ``inbox_edits``): a
message used to stay behind as a file in ``cur/``, an inode each (issue 14); homes from
before keep their ``cur/``, which ``Inbox`` still reads.

Only complete lines count: a torn last line (a crash mid-append) is no record (a JSON
object cut short never parses), and the next append ends it first. Every process reads
only what was appended since it last looked (``FollowedLogs``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .atomic import append_line, fsync_dir
from .followed_logs import FollowedLogs
from .ids import check_slack_ts

__all__ = ["TakenLog"]

_REMEMBERED = 256  # threads per process


@dataclass
class _Taken:
    ts: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    withdrawn: set[str] = field(default_factory=set)


def _take(taken: _Taken, start: int, raw: bytes) -> None:
    record = _record_of(raw)
    if record is None:
        return
    ts, withdrawn = record
    if ts not in taken.seen:
        taken.seen.add(ts)
        if withdrawn:
            taken.withdrawn.add(ts)
        else:
            taken.ts.append(ts)


# Deliveries look from the ingest's disk threads, the worker appends from its own.
_followed: FollowedLogs[Path, _Taken] = FollowedLogs(keep=_REMEMBERED, fresh=_Taken, take=_take)


class TakenLog:
    def __init__(self, path: Path) -> None:
        self.path = path

    def has(self, ts: str) -> bool:
        """Was ``ts`` taken (or withdrawn)? Either way it is never stored again."""
        with _followed.caught_up(self.path, self.path) as taken:
            return ts in taken.seen

    def withdrawn(self, names: Iterable[str]) -> set[str]:
        """Which of ``names`` were withdrawn by their author (``inbox_edits``)."""
        with _followed.caught_up(self.path, self.path) as taken:
            return taken.withdrawn.intersection(names)

    def all(self) -> list[str]:
        """Every ts taken into a session, in the order it was (withdrawn ones left out)."""
        with _followed.caught_up(self.path, self.path) as taken:
            return list(taken.ts)

    def add(self, ts: str, *, withdrawn: bool = False) -> None:
        """Record ``ts`` as taken, or as withdrawn by its author (durable on return); a
        second add of it is a no-op."""
        record: dict[str, object] = {"ts": check_slack_ts(ts)}
        if withdrawn:
            record["withdrawn"] = True
        line = json.dumps(record)
        if self.has(ts):
            return
        created = not self.path.exists()
        append_line(self.path, line)
        if created:
            fsync_dir(self.path.parent)


def _record_of(raw: bytes) -> tuple[str, bool] | None:
    """(ts, withdrawn) of a line; None for a line that is no record."""
    try:
        record = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None  # a line a crash tore, ended by the next append
    ts = record.get("ts") if isinstance(record, dict) else None
    if not isinstance(ts, str):
        return None
    try:
        return check_slack_ts(ts), record.get("withdrawn") is True
    except ValueError:
        return None
