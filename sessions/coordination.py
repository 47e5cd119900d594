"""What processes agree through: the seam where a shared database can replace the directory.

One bot, a CLI deciding from a terminal and a recovery run are separate processes; several
bot replicas would be separate machines. What they must agree on goes through this
interface, so a PostgreSQL backend (advisory locks, a ``SKIP LOCKED`` queue, an outbox
table) can implement it without touching the engine:

- ``work_queue``: which threads have undrained work (marked before the work is durable
  elsewhere, cleared only when the thread is idle);
- ``outbox``: Slack writes recorded before they are sent, each sent once;
- ``thread_locks``: one worker per thread at a time.

Create-only records and the compare-and-set of a session's state are the other two
primitives; they stay with the records they protect (``atomic.create_only``,
``SessionStore.transition``), since those records are the files people read.
``DirectoryCoordination`` is today's only implementation; tests/test_coordination.py is the
contract any other must pass.
"""

from __future__ import annotations

import functools
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .home import Home
from .locks import dir_lock_async, holder_pid, try_dir_lock
from .outbox import Outbox, OutboxDone, OutboxEntry
from .queue import WorkQueue
from .records import ThreadKey
from .threads import ThreadDir

__all__ = [
    "Coordination",
    "DirectoryCoordination",
    "DirectoryThreadLocks",
    "DrainerClaim",
    "OutboxStore",
    "ThreadLocks",
    "WorkQueueStore",
    "coordination_for",
]


class DrainerClaim(Protocol):
    def release(self) -> None: ...


class WorkQueueStore(Protocol):
    def mark(self, thread: ThreadKey) -> None: ...
    def clear(self, thread: ThreadKey) -> None: ...
    def threads(self) -> list[ThreadKey]: ...


class OutboxStore(Protocol):
    def enqueue(self, entry: OutboxEntry) -> bool: ...
    def queued(self, thread: ThreadKey, entry_id: str) -> bool: ...
    def pending(self) -> list[OutboxEntry]: ...
    def depth(self) -> int: ...
    def done(self, thread: ThreadKey, entry_id: str) -> OutboxDone | None: ...
    def results(self, thread: ThreadKey) -> list[OutboxDone]:
        """How the thread's entries that ended, ended (for people to read)."""
        ...

    def waiting(self, thread: ThreadKey) -> list[OutboxEntry]:
        """The thread's entries not sent yet, without touching any (any process may ask)."""
        ...

    def complete(self, results: list[OutboxDone]) -> None: ...
    def claim_drainer(self) -> DrainerClaim | None:
        """One process sends a home's outbox at a time; the others only write to it."""
        ...

    def drainer_pid(self) -> int | None:
        """The process holding the drain claim, if it said (for people: may be stale)."""
        ...


class ThreadLocks(Protocol):
    def hold(self, thread: ThreadKey) -> AbstractAsyncContextManager[None]:
        """Wait (without blocking the event loop) until this process owns the thread."""
        ...

    def try_hold(self, thread: ThreadKey) -> AbstractContextManager[bool]:
        """Yield True owning the thread, or False at once when another worker does."""
        ...

    def holder(self, thread: ThreadKey) -> int | None:
        """The process owning the thread, if it can be known (for people: may be stale)."""
        ...


class Coordination(Protocol):
    @property
    def work_queue(self) -> WorkQueueStore: ...
    @property
    def outbox(self) -> OutboxStore: ...
    @property
    def thread_locks(self) -> ThreadLocks: ...


@dataclass(frozen=True)
class DirectoryThreadLocks:
    """flock on the thread's directory itself (``threads/<team>/<channel>/<shard>/<ts>/``):
    released by the kernel when its process dies, so a SIGKILL never leaves a thread
    locked, and no lock file costs an inode a thread. (Before, it was the file ``lock``
    in that directory, which homes from then still hold, unused: a bot and a CLI of
    that version must not share a home with these.)"""

    home: Home

    def _path(self, thread: ThreadKey) -> Path:
        path = ThreadDir(self.home, thread).path
        path.mkdir(parents=True, exist_ok=True)
        return path

    def hold(self, thread: ThreadKey) -> AbstractAsyncContextManager[None]:
        return dir_lock_async(self._path(thread))

    def try_hold(self, thread: ThreadKey) -> AbstractContextManager[bool]:
        return try_dir_lock(self._path(thread))

    def holder(self, thread: ThreadKey) -> int | None:
        return holder_pid(ThreadDir(self.home, thread).path)


@dataclass(frozen=True)
class DirectoryCoordination:
    home: Home

    @property
    def work_queue(self) -> WorkQueue:
        return WorkQueue(self.home)

    @functools.cached_property
    def outbox(self) -> Outbox:
        # One per home and process: it remembers what it has read of the done logs, which
        # a fresh one read again from the start on every enqueue (a long thread's whole log).
        return Outbox(self.home)

    @property
    def thread_locks(self) -> DirectoryThreadLocks:
        return DirectoryThreadLocks(self.home)


@functools.cache
def coordination_for(home: Home) -> Coordination:
    """The coordination a home uses (today always its directory tree); one per home."""
    return DirectoryCoordination(home)
