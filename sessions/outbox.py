"""The Slack outbox: every write that matters is on disk before it is sent.

    outbox/pending/<id>.json            an OutboxEntry, create-only: queued, not yet sent
    threads/<team>/<channel>/<ts>/outbox.jsonl
                                        an OutboxDone per line: sent, adopted, or given
                                        up (why); see ``outbox_log``

An entry's id is chosen by whoever queues it and says what it is (``reply-<session>-m7``,
``card-<approval>-decided``), so queueing the same thing twice is a no-op, and an entry
that was already sent is never queued again. The sender records ``done`` (fsynced) before
it removes the pending file, so a crash leaves an entry pending or done, never neither.
Homes written before the thread logs keep ``outbox/done/<shard>/<id>.json``; those count
as done too.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from pathlib import Path
from typing import Literal

from pydantic import ValidationError, field_validator

from .atomic import NotRegularFileError, create_only, make_dirs, read_file
from .drain_claim import DrainLock, claim_holder, try_claim
from .errors import AlreadyExistsError, CorruptRecordError, InvalidIdError
from .home import Home
from .outbox_log import DoneLogs
from .records import Record, ThreadKey

__all__ = ["DrainLock", "Outbox", "OutboxDone", "OutboxEntry", "check_entry_id"]

log = logging.getLogger("signoff.outbox")

_ENTRY_ID = re.compile(r"[a-z][a-z0-9_.-]{0,159}")


def check_entry_id(value: str) -> str:
    if not _ENTRY_ID.fullmatch(value):
        raise InvalidIdError(f"not a valid outbox entry id: {value[:60]!r}")
    return value


class OutboxEntry(Record):
    """One Slack write: a reply in a thread, a card to show as it is now, a notice, or the
    thread's agent session to show as it is now (``status``: queued by a process with no
    live view of its own, such as a decision from a terminal)."""

    schema_version: Literal[1] = 1
    id: str
    kind: Literal["reply", "card", "notice", "status"]
    thread: ThreadKey
    created_at: str
    # Nanoseconds at queueing: entries of one thread are sent in this order.
    seq: int
    text: str = ""
    session_id: str = ""  # reply: the session that said it
    approval_id: str = ""  # card: the approval whose card should show its current state
    user: str = ""  # notice: the one person who sees it (an ephemeral message)
    # reply: user ids signoff holds for this thread (authors, deciders); only these may
    # render as mentions in text a model wrote.
    mentions: tuple[str, ...] = ()

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return check_entry_id(value)


class OutboxDone(Record):
    """How an entry ended; it keeps the entry, so a thread's ``outbox.jsonl`` reads as a
    log of what was sent there."""

    schema_version: Literal[1] = 1
    id: str
    entry: OutboxEntry
    at: str
    # sent: by this process; adopted: found already in Slack after a crash; failed: a
    # permanent error (recorded, logged, not retried); skipped: nothing left to send.
    outcome: Literal["sent", "adopted", "failed", "skipped"]
    channel: str = ""
    ts: str = ""
    # failed: why; sent or adopted: a reply Slack took only in part ("posted in part
    # (2 of 5): is_archived").
    error: str = ""
    # card: the version it showed, so an update that would show the same is skipped;
    # failed: the version Slack refused for good, whose people were told of it then.
    shown: str = ""


class Outbox:
    def __init__(self, home: Home) -> None:
        self.root = home.root / "outbox"
        self.pending_dir = self.root / "pending"
        self._logs = DoneLogs(home)
        # Homes from before the thread logs; looked at once: nothing writes there now.
        legacy = self.root / "done"
        self._legacy = legacy if legacy.is_dir() else None
        # Entries already read, by file name: they are create-only, so never read twice.
        self._read: dict[str, OutboxEntry] = {}
        # Entries found not done while this object holds the drain lock (``_draining``).
        # Then only this process records results, so they stay not done until it
        # completes them (``complete`` forgets them once recorded): a pass looks each one
        # up once, not on every pass (a burst's passes looked up every entry each).
        self._draining = False
        self._unreadable: set[str] = set()  # entries said to be unreadable, once each
        self._not_done: set[str] = set()
        # A look-up and its note, against ``complete`` forgetting what it recorded: a pass
        # on the loop may look an entry up while its lane completes it on a worker thread.
        self._looking = threading.Lock()

    def _pending(self, entry_id: str) -> Path:
        return self.pending_dir / f"{check_entry_id(entry_id)}.json"

    def _legacy_done(self, legacy: Path, entry_id: str) -> Path:
        shard = hashlib.sha256(entry_id.encode()).hexdigest()[:2]
        return legacy / shard / f"{check_entry_id(entry_id)}.json"

    def _done_bytes(self, thread: ThreadKey, entry_id: str) -> tuple[bytes, str] | None:
        """The record of ``entry_id`` and where it is, or None when it is not done."""
        line = self._logs.line(thread, check_entry_id(entry_id))
        if line is not None:
            return line, str(self._logs.path(thread))
        if self._legacy is None:
            return None
        path = self._legacy_done(self._legacy, entry_id)
        try:
            return path.read_bytes(), str(path)
        except FileNotFoundError:
            return None

    @staticmethod
    def next_seq() -> int:
        return time.time_ns()

    def enqueue(self, entry: OutboxEntry) -> bool:
        """Queue ``entry``; False when it is queued already or was sent before."""
        if self._done_bytes(entry.thread, entry.id) is not None:
            return False
        make_dirs(self.pending_dir)  # its own name synced: an entry is as durable as it
        try:
            create_only(self._pending(entry.id), entry.model_dump_json().encode())
        except AlreadyExistsError:
            return False
        return True

    def queued(self, thread: ThreadKey, entry_id: str) -> bool:
        return self._pending(entry_id).exists() or self._done_bytes(thread, entry_id) is not None

    def _pending_names(self) -> list[str]:
        try:
            names = os.listdir(self.pending_dir)
        except FileNotFoundError:
            return []
        return [n for n in names if n.endswith(".json") and not n.startswith(".")]

    def pending(self) -> list[OutboxEntry]:
        """What waits to be sent, oldest first; leftovers of a finished send are cleared."""
        out: list[OutboxEntry] = []
        read: dict[str, OutboxEntry] = {}
        draining = self._draining
        not_done = self._not_done if draining else set()
        for name in self._pending_names():
            entry = self._read.get(name)
            if entry is None:
                path = self.pending_dir / name
                try:
                    # Never a FIFO by its name (read whole, it waits for a writer for ever).
                    entry = OutboxEntry.model_validate_json(read_file(path))
                except FileNotFoundError:
                    continue  # sent meanwhile by another drainer
                except (ValidationError, ValueError, IsADirectoryError, NotRegularFileError) as e:
                    # Never sent: the drainer sets it aside, so that one bad file does not
                    # hold up every thread; a reader (a terminal's echo of what it queued,
                    # maybe of another version) leaves it where it is.
                    if draining:
                        self._set_aside(path, e)
                    continue
                except OSError as exc:
                    # EMFILE, EIO, ELOOP, EACCES: left in place and tried again next pass,
                    # while the other entries go out (raised, it stopped every thread's).
                    self._cannot_read(name, exc)
                    continue
            # Looked up (once while draining): a drainer that died may have done it.
            if name not in not_done:
                with self._looking:
                    found = self._done_bytes(entry.thread, entry.id)
                    if found is None and draining:
                        not_done.add(name)
                if found is not None:
                    # a crash (or a failed unlink) came between done and the unlink
                    (self.pending_dir / name).unlink(missing_ok=True)
                    continue
            read[name] = entry
            out.append(entry)
        self._read = read  # what left the directory is forgotten
        if draining:
            not_done.intersection_update(read)
        return sorted(out, key=lambda e: (e.seq, e.id))

    def _cannot_read(self, name: str, exc: OSError) -> None:
        if name not in self._unreadable:  # once a process: a pass runs every second
            self._unreadable.add(name)
            log.error("outbox entry %s cannot be read, tried again later: %s", name, exc)

    def _set_aside(self, path: Path, exc: Exception) -> None:
        """Move an entry that does not parse to ``outbox/unreadable/``, kept for a person to
        read: it cannot be sent, and it must not hold up every other thread's entries."""
        aside = self.root / "unreadable"
        aside.mkdir(exist_ok=True)
        try:
            os.replace(path, aside / path.name)
        except FileNotFoundError:
            return
        log.error(
            "outbox entry %s does not parse, not sent, moved to %s: %s", path.name, aside, exc
        )

    def depth(self) -> int:
        try:
            return sum(1 for n in os.listdir(self.pending_dir) if n.endswith(".json"))
        except FileNotFoundError:
            return 0

    def done(self, thread: ThreadKey, entry_id: str) -> OutboxDone | None:
        found = self._done_bytes(thread, entry_id)
        if found is None:
            return None
        raw, where = found
        try:
            return OutboxDone.model_validate_json(raw)
        except (ValidationError, ValueError) as exc:
            raise CorruptRecordError(f"{where}: not an outbox result for {entry_id}") from exc

    def results(self, thread: ThreadKey) -> list[OutboxDone]:
        """How each of the thread's entries that ended, ended, in the order they did (for
        people: a record that does not parse is left out). Records a home from before the
        thread logs kept in ``outbox/done/`` are not listed: they are not kept by thread."""
        out: list[OutboxDone] = []
        for raw in self._logs.lines(thread):
            try:
                out.append(OutboxDone.model_validate_json(raw))
            except (ValidationError, ValueError):
                log.warning("%s: a line that is not an outbox result", self._logs.path(thread))
        return out

    def waiting(self, thread: ThreadKey) -> list[OutboxEntry]:
        """The thread's entries still pending, oldest first. Unlike ``pending`` it only
        looks (any process may ask): a leftover or a bad file is the drainer's to clear."""
        out: list[OutboxEntry] = []
        for name in self._pending_names():
            entry = self._read.get(name)
            if entry is None:
                try:
                    entry = OutboxEntry.model_validate_json(read_file(self.pending_dir / name))
                except (OSError, ValidationError, ValueError):
                    continue  # sent meanwhile, or set aside by the drainer
            if entry.thread == thread and self._done_bytes(thread, entry.id) is None:
                out.append(entry)
        return sorted(out, key=lambda e: (e.seq, e.id))

    def claim_drainer(self) -> DrainLock | None:
        """Become the home's one drainer (until released or this process ends), or None."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = try_claim(self.root / "drain.lock")
        if fd is None:
            return None
        with self._looking:
            self._not_done.clear()  # another drainer may have recorded results meanwhile
            self._draining = True
        return DrainLock(fd, on_release=self._released)

    def drainer_pid(self) -> int | None:
        """Who holds the drain claim, as far as it wrote (for people: maybe stale)."""
        return claim_holder(self.root / "drain.lock")

    def _released(self) -> None:
        with self._looking:
            self._draining = False
            self._not_done.clear()

    def complete(self, results: list[OutboxDone]) -> None:
        """Record each result in its thread's log (the first record of an id stands), then
        drop its pending entry. The unlinks are not synced: one a power cut undoes leaves
        an entry pending beside its done record, which ``pending`` clears (the state a crash
        between the two always could leave)."""
        by_thread: dict[ThreadKey, list[tuple[str, bytes]]] = {}
        for result in results:
            record = (result.id, result.model_dump_json().encode())
            by_thread.setdefault(result.entry.thread, []).append(record)
        try:
            for thread, records in by_thread.items():
                self._logs.append(thread, records)
        finally:
            # Forgotten once recorded, not before: a pass that looked one up before the
            # record was written would note it again, and an id queued again since (a
            # no-op meant to be) would be sent twice. A pass after this looks them up again
            # (so does one after an unlink below that failed).
            with self._looking:
                self._not_done.difference_update(f"{result.id}.json" for result in results)
        for result in results:
            self._pending(result.id).unlink(missing_ok=True)
