"""Which messages of a thread a session has recorded: ``inbox/taken.jsonl``.

One line ``{"ts": …}`` a message, appended and fsynced by the thread's worker (which
holds the thread's lock) once the message is in a session's transcript, before it leaves
``new/``. A delivery looks here to refuse a message Slack sends again after it was
taken. Its text is in the transcript and the trace, so a line holds only the ts (and
``"withdrawn": true`` for a message its author deleted before it was taken: no session
has it, and a redelivery of it must not bring it back; ``inbox_edits``; with
``"edited"``, the date of the edit that withdrew it by taking the mention out, and a later
``{"ts", "restored": true}`` when a newer edit asked signoff again): a
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
from .ids import check_slack_ts, ts_after

__all__ = ["TakenLog"]

_REMEMBERED = 256  # threads per process


@dataclass
class _Taken:
    ts: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    withdrawn: set[str] = field(default_factory=set)
    # Withdrawn by an edit (the mention taken out), with that edit's date: a newer edit
    # that asks signoff again restores it; a deletion's withdrawal is final.
    by_edit: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Line:
    ts: str
    withdrawn: bool = False
    edited: str | None = None  # a withdrawal by an edit: its date ("" undated)
    restored: bool = False


def _take(taken: _Taken, start: int, raw: bytes) -> None:
    line = _record_of(raw)
    if line is None:
        return
    ts = line.ts
    if line.restored:
        if ts in taken.by_edit:  # only a withdrawal by an edit is ever undone
            del taken.by_edit[ts]
            taken.withdrawn.discard(ts)
            taken.seen.discard(ts)
        return
    if ts not in taken.seen:
        taken.seen.add(ts)
        if line.withdrawn:
            taken.withdrawn.add(ts)
            if line.edited is not None:
                taken.by_edit[ts] = line.edited
        else:
            taken.ts.append(ts)
    elif line.withdrawn and ts in taken.by_edit:
        # Withdrawn again: deleted (final), or by a newer edit (a later date to beat).
        if line.edited is None:
            del taken.by_edit[ts]
        elif ts_after(line.edited, taken.by_edit[ts]):
            taken.by_edit[ts] = line.edited


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

    def withdrawn_by_edit(self, ts: str) -> str | None:
        """The date of the edit that withdrew ``ts`` by taking its mention out ("" undated);
        None when it was not withdrawn so (a deletion, taken, or never here)."""
        with _followed.caught_up(self.path, self.path) as taken:
            return taken.by_edit.get(ts)

    def all(self) -> list[str]:
        """Every ts taken into a session, in the order it was (withdrawn ones left out)."""
        with _followed.caught_up(self.path, self.path) as taken:
            return list(taken.ts)

    def add(self, ts: str, *, withdrawn: bool = False, edited: str | None = None) -> None:
        """Record ``ts`` as taken, or as withdrawn by its author (durable on return; with
        ``edited``, the date of the edit that withdrew it); a second add is a no-op."""
        record: dict[str, object] = {"ts": check_slack_ts(ts)}
        if withdrawn:
            record["withdrawn"] = True
            if edited is not None:
                record["edited"] = edited
        if self.has(ts) and not (withdrawn and self.withdrawn_by_edit(ts) is not None):
            return
        self._append(record)

    def restore(self, ts: str) -> None:
        """``ts``, withdrawn by an edit, asks signoff again (a newer edit): it may be stored
        again (durable on return)."""
        if self.withdrawn_by_edit(ts) is not None:
            self._append({"ts": check_slack_ts(ts), "restored": True})

    def _append(self, record: dict[str, object]) -> None:
        created = not self.path.exists()
        append_line(self.path, json.dumps(record))
        if created:
            fsync_dir(self.path.parent)


def _record_of(raw: bytes) -> _Line | None:
    """What a line says; None for a line that is no record."""
    try:
        record = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None  # a line a crash tore, ended by the next append
    ts = record.get("ts") if isinstance(record, dict) else None
    if not isinstance(ts, str):
        return None
    try:
        ts = check_slack_ts(ts)
    except ValueError:
        return None
    edited = record.get("edited")
    return _Line(
        ts=ts,
        withdrawn=record.get("withdrawn") is True,
        edited=edited if isinstance(edited, str) else None,
        restored=record.get("restored") is True,
    )
