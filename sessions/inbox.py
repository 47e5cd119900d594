"""A per-thread Maildir: messages that were acked but not yet recorded in a session.

A message is written and synced under a dot name in ``new/`` (``.<ts>.<random>``, which
no reader takes), then linked to its own name there when it is durable (only then may
Slack be acked); it leaves ``new/`` only after it is recorded in a session, and is then
one line in ``taken.jsonl`` (``sessions/taken_log.py``; homes from before have a file a
message in ``cur/``, still read). No ``tmp/`` as in a Maildir proper: staging beside the
message costs no directory a thread (issue 14: an inode a thread), and the link stays
within one directory, whose one sync covers it. Homes written before keep a ``tmp/``,
emptied and removed by ``clean_staging``.

A message's file name is its Slack ``ts`` (unique in a channel), so the hard link into
``new/`` is the dedupe: a redelivery, or the ``message`` twin of an ``app_mention``,
fails with EEXIST. A message is recorded as taken before it leaves ``new/``, so it is
always in one or the other and a late duplicate can always see that it was already
taken. Within one process, deliveries of one message take turns (Slack sends the twin
at the same moment), so the second finds the first stored instead of writing and
fsyncing a copy to discard.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from .atomic import fsync_dir, fsync_file, make_dirs, write_all
from .errors import CorruptRecordError
from .failpoints import failpoint
from .ids import check_slack_ts, is_slack_ts, ts_after
from .inbox_message import InboxMessage
from .taken_log import TakenLog

__all__ = ["Inbox", "InboxMessage"]

log = logging.getLogger("signoff.inbox")


class _Turns:
    """A lock for each message being delivered, dropped once no delivery holds or waits
    for it: memory bounded by the deliveries in flight, and different messages never wait
    for each other. (A fixed pool of locks picked by a hash made two messages share one
    now and then: the second waited out the first's fsync, its ack held by another write.)
    Re-entrant: a crash test plays another process's delivery from inside one (a hook on
    os.link)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._held: dict[Path, tuple[threading.RLock, int]] = {}  # lock, its users

    @contextlib.contextmanager
    def turn(self, path: Path) -> Iterator[None]:
        with self._guard:
            lock, users = self._held.get(path) or (threading.RLock(), 0)
            self._held[path] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                users = self._held[path][1] - 1
                if users:
                    self._held[path] = (lock, users)
                else:
                    del self._held[path]


_TURNS = _Turns()


STAGED = "."  # the prefix of a message being staged in new/


def _is_staged(name: str) -> bool:
    return name.startswith(STAGED)


def _staged_key(name: str) -> str:
    """The message key of a staged name (``.<ts>.<random>``)."""
    return name[len(STAGED) :].rpartition(".")[0]


def _any_name(name: str) -> bool:
    return True


def _drop_older(directory: Path, names: list[str], older_than: float) -> int:
    removed, cutoff = 0, time.time() - older_than
    for name in names:
        path = directory / name
        try:
            if path.stat().st_mtime <= cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed


class Inbox:
    def __init__(self, thread_dir: Path) -> None:
        self.root = thread_dir / "inbox"
        self.new = self.root / "new"
        self.taken_log = TakenLog(self.root / "taken.jsonl")
        # Homes from before: a consumed message's file; see ``clean_staging`` for tmp/.
        self.legacy_cur, self.legacy_tmp = self.root / "cur", self.root / "tmp"

    def ensure(self) -> None:
        if self.new.is_dir():
            return
        make_dirs(self.new)  # a new thread's, on its first message

    def deliver(self, message: InboxMessage) -> bool:
        """Store ``message`` durably; False when it is a duplicate. Safe across processes."""
        key = check_slack_ts(message.ts)
        with self.turn(key):
            return self._deliver(key, message)

    def _deliver(self, key: str, message: InboxMessage) -> bool:
        if self._was_taken(key) or (self.new / key).exists():
            return False
        self.ensure()
        tmp = self.new / f"{STAGED}{key}.{secrets.token_hex(4)}"
        data = message.model_dump_json().encode()
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileNotFoundError:
            self.new.mkdir(parents=True, exist_ok=True)  # removed by hand
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            write_all(fd, data)
            fsync_file(fd)
        except BaseException:
            # Not stored (a full disk): the staged copy goes now, not a minute later at a
            # worker's clean-up, which left one per redelivery while the disk stayed full.
            tmp.unlink(missing_ok=True)
            raise
        finally:
            os.close(fd)
        failpoint("ingest.after_tmp_write")
        try:
            os.link(tmp, self.new / key)
        except FileExistsError:
            return False
        except FileNotFoundError:
            # A worker dropped our staged copy (``clean_staging``): it was stored meanwhile.
            if (self.new / key).exists() or self._was_taken(key):
                return False
            raise
        finally:
            tmp.unlink(missing_ok=True)
        if self._was_taken(key):
            # It was consumed between our check and our link: take our copy back.
            (self.new / key).unlink(missing_ok=True)
            return False
        try:
            fsync_dir(self.new)
        except OSError:
            # The link may not survive a power cut: not stored. Left in new/, a twin or a
            # redelivery would be acked as its duplicate; taken back, the next copy stores
            # it (or finds it taken, if a worker took it meanwhile).
            (self.new / key).unlink(missing_ok=True)
            raise
        return True

    def _stored(self, key: str, linked: set[str]) -> bool:
        return key in linked or self._was_taken(key)

    def _was_taken(self, key: str) -> bool:
        return self.taken_log.has(key) or (self.legacy_cur / key).exists()

    def turn(self, key: str) -> contextlib.AbstractContextManager[None]:
        """The turn every delivery of message ``key`` takes in this process."""
        return _TURNS.turn(self.new / check_slack_ts(key))

    def held_any(self) -> bool:
        """Was a message ever stored here (waiting, being stored, or taken)? Lines of
        messages withdrawn before they came do not count: no such message ever was."""
        with contextlib.suppress(FileNotFoundError), os.scandir(self.new) as names:
            if next(names, None) is not None:
                return True
        return self.legacy_cur.exists() or bool(self.taken_log.all())

    def held_by(self, ts: str) -> bool:
        """Was a message posted no later than ``ts`` stored here (waiting or taken)? Staged
        copies and messages withdrawn before they were taken do not count."""
        if any(not ts_after(taken, ts) for taken in self.taken()):  # oldest first
            return True
        try:
            names = os.listdir(self.new)
        except FileNotFoundError:
            return False
        early = [n for n in names if is_slack_ts(n) and not ts_after(n, ts)]  # none staged
        return bool(early) and bool(set(early) - self.taken_log.withdrawn(early))

    def waiting(self, key: str) -> bool:
        """Is this message stored but not yet recorded in a session?"""
        return (self.new / check_slack_ts(key)).exists()

    def pending(self) -> list[InboxMessage]:
        """Messages in ``new/``, oldest first."""
        try:
            names = os.listdir(self.new)
        except FileNotFoundError:
            return []
        out = []
        # A kill between a deletion's withdrawn line and its unlink leaves the message in
        # new/ too: it must never be answered, and its withdrawal is finished here.
        withdrawn = self.taken_log.withdrawn(names) if names else set()
        for name in withdrawn:
            with contextlib.suppress(OSError):  # a reader without write access: left as is
                (self.new / name).unlink(missing_ok=True)
        for name in names:
            if not _is_staged(name) and name not in withdrawn:
                try:
                    message = self._read(self.new / name)
                except FileNotFoundError:
                    continue  # taken since the listing (any process may look)
                except (CorruptRecordError, IsADirectoryError) as exc:
                    # Not a passing failure (EIO, EMFILE): those leave the message for a retry.
                    self._set_aside(name, exc)
                    continue
                if message.ts != name:  # it could never leave new/ (``mark_consumed``)
                    self._set_aside(name, CorruptRecordError(f"it holds message {message.ts}"))
                    continue
                out.append(message)
        return sorted(out, key=lambda m: (float(m.ts), m.ts))

    def _set_aside(self, name: str, exc: Exception) -> None:
        """Move a file of ``new/`` that is no message of its name to ``unreadable/``, kept
        for a person to read: every pass of the thread's worker stopped at it, and no
        later message of the thread was ever answered."""
        aside = self.root / "unreadable"
        aside.mkdir(exist_ok=True)
        try:
            os.replace(self.new / name, aside / name)
        except FileNotFoundError:
            return  # taken or set aside by another process meanwhile
        log.error("inbox file %s is not a message, moved to %s: %s", name, aside, exc)

    def mark_consumed(self, key: str) -> None:
        key = check_slack_ts(key)
        if not (self.new / key).exists():
            return  # taken already
        self.taken_log.add(key)  # synced before the message leaves new/
        failpoint("inbox.after_taken")
        # The unlink is not synced: if a power cut undoes it, the message is in new/ and
        # taken, the state a crash between the two always could leave, and it is taken
        # again like that one (recorded in the transcript, so not appended twice). The
        # next delivery's sync of new/ makes it durable.
        (self.new / key).unlink(missing_ok=True)

    def taken(self) -> list[str]:
        """The ts of every message recorded in a session, in the order they were."""
        try:
            legacy = [n for n in os.listdir(self.legacy_cur) if not n.startswith(".")]
        except FileNotFoundError:
            legacy = []
        logged = self.taken_log.all()
        if not legacy:
            return logged
        had = set(legacy)
        return legacy + [ts for ts in logged if ts not in had]

    def clean_staging(self, *, older_than: float = 0.0) -> int:
        """Drop staged copies a crash left (never linked, so never acked); remove a home's
        old ``tmp/`` once it is empty. ``older_than`` spares files a concurrent delivery
        may still be writing, but not the copy of a message stored or taken since: a
        delivery still writing it finds it gone when it links and answers "duplicate",
        and the thread's worker may never run again."""
        removed = 0
        for directory, staged in ((self.new, _is_staged), (self.legacy_tmp, _any_name)):
            try:
                listed = os.listdir(directory)
            except FileNotFoundError:
                continue
            names = [n for n in listed if staged(n)]
            if directory == self.new and names:
                stored = set(listed).difference(names)
                done = [n for n in names if self._stored(_staged_key(n), stored)]
                removed += _drop_older(directory, done, 0.0)
                names = [n for n in names if n not in done]
            removed += _drop_older(directory, names, older_than)
            if directory == self.legacy_tmp:
                with contextlib.suppress(OSError):  # not empty yet: a delivery writes there
                    directory.rmdir()
        return removed

    @staticmethod
    def _read(path: Path) -> InboxMessage:
        try:
            return InboxMessage.model_validate_json(path.read_bytes())
        except (ValidationError, ValueError) as exc:
            raise CorruptRecordError(f"{path}: not an inbox message") from exc
