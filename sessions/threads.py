"""Threads on disk: the HEAD pointer, the per-thread lock, the inbox, open approvals, lineage.

``approvals/<approval_id>`` markers in a thread's directory say which approvals asked in
this thread are not finished (their outcome not yet in the conversation). The worker
treats a decided one as work, whatever state the session that asked is in.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

from .atomic import NotRegularFileError, fsync_dir, make_dirs, read_file, replace_atomically
from .errors import CorruptRecordError
from .home import Home, thread_shard
from .ids import check_approval_id, check_session_id, child_session_id, first_session_id
from .inbox import Inbox
from .index_rows import ThreadValues
from .records import SessionRecord, ThreadKey
from .store import SessionStore

__all__ = [
    "ThreadDir",
    "ThreadShard",
    "iter_thread_keys",
    "lineage",
    "thread_shards",
    "thread_values",
]

log = logging.getLogger("signoff.threads")


class ThreadDir:
    def __init__(self, home: Home, thread: ThreadKey) -> None:
        self.home = home
        self.thread = thread
        self.path = home.thread_dir(thread)
        self.inbox = Inbox(self.path)
        self._open = self.path / "approvals"

    def ensure(self) -> None:
        self.inbox.ensure()  # its directories are made with their parents, this one

    # HEAD -------------------------------------------------------------------------
    # The HEAD file is a hint, not a record: each session's id is derived from its
    # parent's, and its creation is synced, so the thread's newest session is HEAD's or
    # the last of its successors that exist. ``set_head`` therefore does not sync the
    # rename (a power cut may leave the file behind; every reader walks forward), which
    # saves a directory fsync per turn.
    def head(self) -> str | None:
        """The thread's newest session: HEAD, or a successor a crash left it behind."""
        head = self.recorded_head()
        while self._exists(candidate := self.next_session_id(head)):
            head = candidate
        return head

    def _exists(self, session_id: str) -> bool:
        return (self.home.session_dir(session_id) / "session.json").exists()

    def recorded_head(self) -> str | None:
        """What the HEAD file says (it may lag: see ``head``).

        A HEAD that cannot be read (empty, not a session id, not text, a directory) is no
        hint when the thread's first session is there: the walk from it finds the same
        newest one (raised, it stopped every turn of the thread; the next turn writes it
        again). A thread begun before ids derived from the thread has a random first id
        that only HEAD leads to: that stays an error, not a new conversation."""
        path = self.path / "HEAD"
        try:
            # A FIFO by its name is refused (read, it waits for a writer for ever).
            return check_session_id(read_file(path).decode().strip())
        except FileNotFoundError:
            return None
        # UnicodeDecodeError is a ValueError
        except (ValueError, IsADirectoryError, NotRegularFileError) as exc:
            if not self._exists(self.next_session_id(None)):
                raise CorruptRecordError(f"{path}: {exc}") from exc
            log.warning("%s is not a session id, walked from the first session: %s", path, exc)
            return None

    def set_head(self, session_id: str) -> None:
        # Written whole before the rename (never torn or empty); the rename not synced.
        data = (check_session_id(session_id) + "\n").encode()
        try:
            replace_atomically(self.path / "HEAD", data, sync_dir=False)
        except IsADirectoryError:
            # An empty directory by its name (a hand's mkdir) is no hint either; one that
            # holds something is a person's to look at, and raises.
            (self.path / "HEAD").rmdir()
            replace_atomically(self.path / "HEAD", data, sync_dir=False)

    def next_session_id(self, head: str | None) -> str:
        """The id the next session of this thread must have."""
        if head is None:
            t = self.thread
            return first_session_id(t.team, t.channel, t.thread_ts)
        return child_session_id(head)

    def adopt_head(self, store: SessionStore) -> str | None:
        """HEAD, moved forward over sessions a crash created before HEAD could point to them
        (or whose HEAD write a power cut lost)."""
        head = self.recorded_head()
        moved = head
        while store.exists(candidate := self.next_session_id(moved)):
            moved = candidate
        if moved != head and moved is not None:
            self.set_head(moved)
        return moved

    # open approvals ---------------------------------------------------------------
    def open_approval(self, approval_id: str) -> bool:
        """Mark ``approval_id`` open here; False when it was already."""
        path = self._open / check_approval_id(approval_id)
        if path.exists():
            return False
        make_dirs(self._open)  # its own name synced: a marker is only as durable as it
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o644))
        fsync_dir(self._open)
        return True

    def close_approval(self, approval_id: str) -> None:
        try:
            (self._open / check_approval_id(approval_id)).unlink()
        except FileNotFoundError:
            return
        fsync_dir(self._open)

    def open_approvals(self) -> list[str]:
        try:
            names = os.listdir(self._open)
        except FileNotFoundError:
            return []
        out = []
        for name in sorted(names):
            try:
                out.append(check_approval_id(name))
            except ValueError:
                continue
        return out


def iter_thread_keys(home: Home) -> Iterator[ThreadKey]:
    root = home.threads_dir
    for team in _names(root):
        for channel in _names(root / team):
            # A channel's threads in the order of their ts, as before sharding.
            found = sorted(
                ts for shard in _names(root / team / channel)
                for ts in _names(root / team / channel / shard)
                if thread_shard(ts) == shard
            )  # fmt: skip
            for ts in found:
                try:
                    yield ThreadKey(team=team, channel=channel, thread_ts=ts)
                except ValueError:
                    continue


ThreadShard = tuple[str, str, str]  # (team, channel, shard): one directory of threads


def thread_shards(home: Home) -> list[ThreadShard]:
    """Every directory that holds threads, for reindex to read a few at a time."""
    root = home.threads_dir
    return [
        (team, channel, shard)
        for team in _names(root)
        for channel in _names(root / team)
        for shard in _names(root / team / channel)
    ]


def thread_values(home: Home, shard: ThreadShard) -> list[ThreadValues]:
    """Each thread's key and HEAD in one shard, for reindex.

    Plain string paths: at a rebuild's scale, building Path objects costs more than
    the reads. A HEAD that is not a session id reads as none.
    """
    team, channel, name = shard
    directory = os.path.join(home.threads_dir, team, channel, name)
    out: list[ThreadValues] = []
    for ts in _names(Path(directory)):
        if thread_shard(ts) != name:
            continue
        try:
            ThreadKey(team=team, channel=channel, thread_ts=ts)
        except ValueError:
            continue
        try:
            head: str | None = read_file(os.path.join(directory, ts, "HEAD")).decode().strip()
            head = check_session_id(head)
        except (OSError, ValueError):
            head = None
        out.append((team, channel, ts, head))
    return out


def _names(path: Path) -> list[str]:
    try:
        return sorted(n for n in os.listdir(path) if not n.startswith("."))
    except (FileNotFoundError, NotADirectoryError):
        return []


def lineage(store: SessionStore, head_id: str) -> list[SessionRecord]:
    """The sessions of a thread, oldest to newest, by walking parent links from HEAD."""
    chain: list[SessionRecord] = []
    seen: set[str] = set()
    current: str | None = head_id
    while current is not None:
        if current in seen:
            raise CorruptRecordError(f"lineage loops at {current}")
        seen.add(current)
        record = store.load(current)
        chain.append(record)
        current = record.parent_id
    chain.reverse()
    return chain
