"""What this process has read of many append-only logs, each caught up under its own lock.

Per-thread logs (``inbox/taken.jsonl``, ``outbox.jsonl``) are read from many threads at
once: the ingest's disk threads, the workers', the drainer. For the logs it looked at
last, a process remembers what it read and how far, and reads only what was appended
since (a ``stat`` when nothing was). One lock for all the logs made every reader wait for
whichever was reading a file, so a burst's deliveries queued on it; a log's own lock keeps
only the readers of that log in turn.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from .jsonl import lines_since

__all__ = ["FollowedLogs"]

K = TypeVar("K", bound=Hashable)
S = TypeVar("S")


@dataclass
class _Followed(Generic[S]):
    state: S
    read_to: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class FollowedLogs(Generic[K, S]):
    """``keep`` logs by key; ``fresh`` makes a log's state, ``take`` adds one complete line
    (with the offset it starts at) to it."""

    def __init__(
        self, *, keep: int, fresh: Callable[[], S], take: Callable[[S, int, bytes], None]
    ) -> None:
        self._known: OrderedDict[K, _Followed[S]] = OrderedDict()
        self._keep = keep
        self._fresh = fresh
        self._take = take
        self._lock = threading.Lock()  # the table only, never a file

    @contextmanager
    def caught_up(self, key: K, path: Path) -> Iterator[S]:
        """The state of ``key``'s log at ``path`` with all it holds now taken in; no other
        reader of that log runs until the block ends. A log dropped from the table while in
        use stays right: the next reader just starts it over."""
        with self._lock:
            followed = self._known.pop(key, None) or _Followed(self._fresh())
            self._known[key] = followed
            while len(self._known) > self._keep:
                self._known.popitem(last=False)
        with followed.lock:
            appended = lines_since(path, followed.read_to)
            if appended is None:  # not this file any more (a restored home): start over
                followed.state, followed.read_to = self._fresh(), 0
                appended = lines_since(path, 0) or (0, [])
            followed.read_to, lines = appended
            for start, raw in lines:
                self._take(followed.state, start, raw)
            yield followed.state
