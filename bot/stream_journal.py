"""Where streamed messages are, on disk, so that none outlives its process unaccounted.

    live/streams/<entry-id>.json     a StreamRecord: the reply entry a stream shows,
                                     where it is (``ts``), which process started it

A record is written (fsynced) *before* ``chat.startStream`` — with no ``ts``: a message
may exist that signoff does not know — and again with the ``ts`` Slack answered, and
with the task steps it shows each time they change, before Slack is told: a step a dead
process left "in progress" is finalized as cut off, not left spinning for ever (one that
asked for an approval says so, done: the approval outlives the process). It is
removed once the stream became its reply (finalized with the reply's text and outbox
metadata) or was taken away. So after a crash, every stream that could be showing a
partial answer is listed here, and the next process finalizes it with its reply or
deletes it (``live_streams``).
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from sessions import Home, Record, ThreadKey, replace_atomically
from sessions.outbox import check_entry_id

from .stream_steps import asked_approval, task_update

__all__ = ["StreamJournal", "StreamRecord", "StreamTask"]

log = logging.getLogger("signoff.slack")


TaskStatus = Literal["pending", "in_progress", "complete", "error"]


class StreamTask(Record):
    """A task step as the stream shows it (a ``task_update`` chunk)."""

    id: str
    title: str
    status: TaskStatus
    details: str = ""

    @classmethod
    def of(cls, chunk: dict[str, Any]) -> StreamTask:
        return cls(
            id=chunk["id"],
            title=chunk["title"],
            status=chunk["status"],
            details=chunk.get("details", ""),
        )

    @property
    def cut(self) -> bool:
        """Running when its process died: nobody will say how it ended."""
        return self.status == "in_progress"


class StreamRecord(Record):
    schema_version: Literal[1] = 1
    entry_id: str
    thread: ThreadKey
    session_id: str
    # "" until chat.startStream answered: a message may exist that signoff never saw.
    ts: str = ""
    started_at: str
    # The process that streams it (a random token per process): others' are dead.
    owner: str
    # The task steps it shows, as last sent (or about to be).
    tasks: tuple[StreamTask, ...] = ()

    def ending(self) -> list[dict[str, Any]]:
        """The ``task_update`` chunks the next process finalizes the stream with: each step
        as journaled, the running ones cut off. A step is journaled before Slack is told,
        so its last state may never have reached Slack: it is sent again, without its
        details, which Slack would add to those it may show already (one whose details
        never reached Slack goes without them: the reply says how the call ended)."""
        cut = "cut off by a restart"  # the reply says how the call ended
        return [
            task_update(t.id, t.title, "error", cut)
            if t.cut
            # Journaled by a version that showed a step asking for approval as "pending",
            # "waiting for approval", which the finished message would say for good.
            else asked_approval(t.id, t.title)
            if t.status == "pending"
            else task_update(t.id, t.title, t.status)
            for t in self.tasks
        ]


class StreamJournal:
    def __init__(self, home: Home) -> None:
        self.root = home.root / "live" / "streams"

    def _path(self, entry_id: str) -> Path:
        return self.root / f"{check_entry_id(entry_id)}.json"

    def put(self, record: StreamRecord) -> None:
        """Durable when this returns."""
        self.root.mkdir(parents=True, exist_ok=True)
        replace_atomically(self._path(record.entry_id), record.model_dump_json().encode())

    def get(self, entry_id: str) -> StreamRecord | None:
        try:
            data = self._path(entry_id).read_bytes()
        except FileNotFoundError:
            return None
        try:
            return StreamRecord.model_validate_json(data)
        except (ValidationError, ValueError):
            log.warning("unreadable stream record %s: ignored", entry_id)
            return None

    def remove(self, entry_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(entry_id).unlink()

    def all(self) -> list[StreamRecord]:
        try:
            names = sorted(os.listdir(self.root))
        except FileNotFoundError:
            return []
        out = []
        for name in names:
            if name.endswith(".json") and not name.startswith("."):
                record = self.get(name[: -len(".json")])
                if record is not None:
                    out.append(record)
        return out
