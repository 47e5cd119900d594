"""Reading a home's sessions and threads into index rows for a rebuild, in worker
processes on a big home.

A rebuild is bound by reading and parsing each session's and thread's files, and by the
kernel's work reading them when they are not in the page cache (100k sessions in one
process: 22-32 s warm, 90 s cold). Threads did not help, since the parse holds the GIL
(see docs/design-notes.md); processes read and parse in parallel and send back the rows
as plain tuples, which the caller writes to the index as they come.

Workers are fresh interpreters (``spawn``), so the caller's ``__main__`` must be safe to
import, as multiprocessing requires; signoff's entry points are. A worker dies with the
process that started it (``PR_SET_PDEATHSIG``): it seals sessions a crash left
unsealed, and must not go on writing after that process's ``index.lock``, which keeps
two rebuilds apart, was let go.
"""

from __future__ import annotations

import asyncio
import ctypes
import multiprocessing
import multiprocessing.context
import os
import signal
from collections.abc import AsyncGenerator, Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .errors import SessionsError, SignoffError
from .home import Home
from .index_rows import (
    ApprovalRow,
    ApprovalValues,
    AskerValues,
    SessionValues,
    ThreadValues,
    approval_values,
    asker_values,
    session_values,
)
from .layout import iter_session_dirs
from .manifest import seal_after_crash
from .records import SessionRecord
from .store import read_record
from .threads import ThreadShard, thread_shards, thread_values

__all__ = ["ApprovalScanner", "Scanned", "scan_home", "worker_pool"]

# The approvals package knows its own files; it hands reindex a scanner for one session.
# It is sent to worker processes by name, so it must be a module-level function.
ApprovalScanner = Callable[[Home, Path, SessionRecord], Iterable[ApprovalRow]]

CHUNK = 1000  # sessions a worker reads per task, at most: rows reach the index as they come
PER_PROCESS = 5000  # below this many sessions a worker process costs more than it saves
MAX_PROCESSES = 8  # ~45 MB each: a container on a big host must not start one per host CPU
_PR_SET_PDEATHSIG = 1


@dataclass
class Scanned:
    """What one task (some session directories, or some thread shards) gave."""

    sessions: list[SessionValues] = field(default_factory=list)
    approvals: list[ApprovalValues] = field(default_factory=list)
    askers: list[AskerValues] = field(default_factory=list)
    threads: list[ThreadValues] = field(default_factory=list)
    unreadable: int = 0
    sealed: int = 0


def scan_chunk(
    root: str, directories: list[tuple[str, str]], scan_approvals: ApprovalScanner | None
) -> Scanned:
    """Rows for ``directories`` ((id, path) pairs): run in a worker process or inline."""
    home = Home(Path(root))
    out = Scanned()
    for session_id, directory in directories:
        try:
            record = read_record(os.path.join(directory, "session.json"), session_id)
        except (SessionsError, OSError):  # does not parse, or cannot be read (EACCES, EIO)
            out.unreadable += 1
            continue
        if record.terminal:
            try:
                out.sealed += seal_after_crash(Path(directory))
            except OSError:
                out.unreadable += 1  # indexed all the same; verify will say it has no seal
        out.sessions.append(session_values(record))
        if scan_approvals is not None:
            try:
                for row in scan_approvals(home, Path(directory), record):
                    out.approvals.append(approval_values(row))
                    out.askers.extend(asker_values(row))
            except (SignoffError, ValueError, OSError):
                # One bad capsule must not stop the rebuild, nor hide the session's other
                # requests (the scanner yields them first): the approvals package's errors
                # (a capsule filed under another session) are SignoffErrors too.
                out.unreadable += 1
    return out


def scan_thread_shards(root: str, shards: list[ThreadShard]) -> Scanned:
    home = Home(Path(root))
    return Scanned(threads=[row for shard in shards for row in thread_values(home, shard)])


async def scan_home(
    home: Home, scan_approvals: ApprovalScanner | None, *, processes: int | None = None
) -> AsyncGenerator[Scanned, None]:
    """Every session's and thread's rows, task by task. ``processes``: how many workers
    (default: two per CPU this process may use, so that one waits on the disk while the
    other parses, at most ``MAX_PROCESSES``, and none for fewer than ``PER_PROCESS``
    sessions a worker); 1 reads in this process."""
    directories = [(sid, str(path)) for sid, path in iter_session_dirs(home)]
    shards = thread_shards(home)
    if processes is None:
        cpus = len(os.sched_getaffinity(0))  # the CPUs this process may use (a cpuset)
        processes = min(2 * cpus, MAX_PROCESSES, len(directories) // PER_PROCESS)
    root = str(home.root)
    if processes < 2 or len(directories) < 2:
        for i in range(0, len(directories), CHUNK):
            yield scan_chunk(root, directories[i : i + CHUNK], scan_approvals)
        yield scan_thread_shards(root, shards)
        return
    size = min(CHUNK, -(-len(directories) // (4 * processes)))  # a few tasks per worker
    per = max(1, -(-len(shards) // (4 * processes)))
    pool = worker_pool(processes)
    pending: set[asyncio.Future[Scanned]] = set()
    done: set[asyncio.Future[Scanned]] = set()
    try:
        loop = asyncio.get_running_loop()
        # Submitted from the event loop's thread: PR_SET_PDEATHSIG follows the thread
        # that started the worker, and this one lives as long as the process.
        pending = {
            *(
                loop.run_in_executor(pool, scan_thread_shards, root, shards[i : i + per])
                for i in range(0, len(shards), per)
            ),
            *(
                loop.run_in_executor(
                    pool, scan_chunk, root, directories[i : i + size], scan_approvals
                )
                for i in range(0, len(directories), size)
            ),
        }
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            while done:
                # Popped, not kept: a batch's rows are let go once written.
                yield done.pop().result()
    finally:
        # Stopped early (a failed task, a broken pool, a cancel): the other tasks' outcomes
        # are not wanted, and must not be logged one by one as never retrieved.
        for future in (*done, *pending):
            if future.done() and not future.cancelled():
                future.exception()
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)


def worker_pool(processes: int) -> ProcessPoolExecutor:
    """Fresh interpreters (``spawn``, not ``fork``: the caller may be a running bot with
    threads, whose locks a forked child would inherit held) that die with this process."""
    return ProcessPoolExecutor(
        max_workers=processes,
        mp_context=_SpawnContext(),
        initializer=_die_with_parent,
        initargs=(os.getpid(),),
    )


class _SpawnProcess(multiprocessing.context.SpawnProcess):
    """A worker that starts with Ctrl-C blocked (the mask is inherited through fork and
    exec): it imports the caller's ``__main__`` before ``_die_with_parent`` can ignore
    Ctrl-C, and one that came meanwhile would kill it, leaving a traceback and a
    broken pool. The resource tracker is started the same way."""

    def start(self) -> None:
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            super().start()
        finally:
            # One that came meanwhile is delivered here now: the parent's to handle.
            signal.pthread_sigmask(signal.SIG_SETMASK, held)


class _SpawnContext(multiprocessing.context.SpawnContext):
    Process = _SpawnProcess


def _die_with_parent(parent: int) -> None:
    # Ctrl-C reaches the whole process group: the parent stops the rebuild, and each
    # worker dies with it instead of printing a traceback of its own. Ignored, one that
    # came while the worker started (blocked) is discarded.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # it died before the call: nothing would stop this one
        os._exit(1)
