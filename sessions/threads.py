"""Threads on disk: the HEAD pointer, the per-thread lock, the inbox, and lineage."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from .atomic import replace_atomically
from .errors import CorruptRecordError
from .home import Home
from .ids import check_session_id
from .inbox import Inbox
from .records import SessionRecord, ThreadKey
from .store import SessionStore

__all__ = ["ThreadDir", "iter_thread_keys", "lineage"]


class ThreadDir:
    def __init__(self, home: Home, thread: ThreadKey) -> None:
        self.thread = thread
        self.path = home.thread_dir(thread)
        self.inbox = Inbox(self.path)

    def ensure(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        self.inbox.ensure()

    @property
    def lock_path(self) -> Path:
        return self.path / "lock"

    def head(self) -> str | None:
        try:
            value = (self.path / "HEAD").read_text().strip()
        except FileNotFoundError:
            return None
        try:
            return check_session_id(value)
        except ValueError as exc:
            raise CorruptRecordError(f"{self.path / 'HEAD'}: {exc}") from exc

    def set_head(self, session_id: str) -> None:
        replace_atomically(self.path / "HEAD", (check_session_id(session_id) + "\n").encode())


def iter_thread_keys(home: Home) -> Iterator[ThreadKey]:
    root = home.threads_dir
    for team in _names(root):
        for channel in _names(root / team):
            for ts in _names(root / team / channel):
                try:
                    yield ThreadKey(team=team, channel=channel, thread_ts=ts)
                except ValueError:
                    continue


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
