"""A per-thread Maildir: messages that were acked but not yet recorded in a session.

``tmp/`` → ``new/`` when a message is durable (only then may Slack be acked);
``new/`` → ``cur/`` only after the message is recorded in a session. A message's file
name is its Slack ``ts`` (unique in a channel), so the hard link into ``new/`` is the
dedupe: a redelivery, or the ``message`` twin of an ``app_mention``, fails with EEXIST.
Moving to ``cur/`` links before it unlinks, so a message is always in ``new/`` or
``cur/`` and a late duplicate can always see that it was already taken. Within one
process, deliveries of one message take turns (Slack sends the twin at the same moment),
so the second finds the first stored instead of writing and fsyncing a copy to discard.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
import zlib
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from .atomic import fsync_dir, fsync_file, make_dirs, write_all
from .errors import CorruptRecordError
from .failpoints import failpoint
from .ids import check_slack_ts
from .records import Record, ThreadKey

__all__ = ["Inbox", "InboxMessage"]


class InboxMessage(Record):
    schema_version: Literal[1] = 1
    thread: ThreadKey
    ts: str
    user: str
    text: str
    event_id: str = ""
    received_at: str
    # The author's team (Slack's ``user_team``): for a Slack Connect guest their own
    # organization's, not the thread's. "" in records stored before it was kept: unknown.
    user_team: str = ""

    @property
    def key(self) -> str:
        return self.ts


# Striped, not one lock per message: bounded memory, and two different messages rarely
# share a stripe (then one waits for the other's fsync, nothing worse). Re-entrant: a
# crash test plays another process's delivery from inside one (a hook on os.link).
_TURNS = tuple(threading.RLock() for _ in range(256))


def _turn_for(path: Path) -> threading.RLock:
    return _TURNS[zlib.crc32(os.fsencode(path)) % len(_TURNS)]


class Inbox:
    def __init__(self, thread_dir: Path) -> None:
        self.root = thread_dir / "inbox"
        self.tmp, self.new, self.cur = (self.root / n for n in ("tmp", "new", "cur"))

    def ensure(self) -> None:
        if self.cur.is_dir():  # made last: the others are there (deliver remakes tmp/)
            return
        make_dirs(self.tmp, self.new, self.cur)  # a new thread's, on its first message

    def deliver(self, message: InboxMessage) -> bool:
        """Store ``message`` durably; False when it is a duplicate. Safe across processes."""
        key = check_slack_ts(message.ts)
        with _turn_for(self.new / key):
            return self._deliver(key, message)

    def _deliver(self, key: str, message: InboxMessage) -> bool:
        if (self.cur / key).exists() or (self.new / key).exists():
            return False
        self.ensure()
        tmp = self.tmp / f"{key}.{secrets.token_hex(4)}"
        data = message.model_dump_json().encode()
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileNotFoundError:
            self.tmp.mkdir(parents=True, exist_ok=True)  # removed by hand
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            write_all(fd, data)
            fsync_file(fd)
        finally:
            os.close(fd)
        failpoint("ingest.after_tmp_write")
        try:
            os.link(tmp, self.new / key)
        except FileExistsError:
            return False
        finally:
            tmp.unlink(missing_ok=True)
        if (self.cur / key).exists():
            # It was consumed between our check and our link: take our copy back.
            (self.new / key).unlink(missing_ok=True)
            return False
        fsync_dir(self.new)
        return True

    def waiting(self, key: str) -> bool:
        """Is this message stored but not yet recorded in a session?"""
        return (self.new / check_slack_ts(key)).exists()

    def pending(self) -> list[InboxMessage]:
        """Messages in ``new/``, oldest first."""
        try:
            names = os.listdir(self.new)
        except FileNotFoundError:
            return []
        out = [self._read(self.new / n) for n in names if not n.startswith(".")]
        return sorted(out, key=lambda m: (float(m.ts), m.ts))

    def mark_consumed(self, key: str) -> None:
        key = check_slack_ts(key)
        try:
            os.link(self.new / key, self.cur / key)
        except FileExistsError:
            pass
        except FileNotFoundError:
            return
        fsync_dir(self.cur)
        # The unlink is not synced: if a power cut undoes it, the message is in new/ and
        # cur/, the state a crash between the link and the unlink always could leave, and
        # it is taken again like that one (recorded in the transcript, so not appended
        # twice; consumed again). The next delivery's sync of new/ makes it durable.
        (self.new / key).unlink(missing_ok=True)

    def taken(self) -> list[str]:
        """The ts of every message recorded in a session (``cur/``), unread."""
        try:
            return [n for n in os.listdir(self.cur) if not n.startswith(".")]
        except FileNotFoundError:
            return []

    def consumed(self) -> list[InboxMessage]:
        return [self._read(self.cur / n) for n in self.taken()]

    def clean_tmp(self, *, older_than: float = 0.0) -> int:
        """Drop leftovers in tmp/: never linked, so never acked (a crash mid-delivery).

        ``older_than`` spares files a concurrent delivery may still be writing.
        """
        removed = 0
        cutoff = time.time() - older_than
        try:
            names = os.listdir(self.tmp)
        except FileNotFoundError:
            return 0
        for name in names:
            path = self.tmp / name
            try:
                if path.stat().st_mtime <= cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    @staticmethod
    def _read(path: Path) -> InboxMessage:
        try:
            return InboxMessage.model_validate_json(path.read_bytes())
        except (ValidationError, ValueError) as exc:
            raise CorruptRecordError(f"{path}: not an inbox message") from exc
