"""Reindex's worker processes (sessions/reindex_scan.py): they are other processes, and
they die with the one that started them, so none goes on sealing sessions after that
process's hold on ``index.lock`` is gone, and leave Ctrl-C to it."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import multiprocessing
import os
import signal
import subprocess
import sys
import time
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pytest

from sessions import Home, SessionRecord, SessionStore, ThreadDir, ThreadKey, atomic, reindex
from sessions.index_rows import ApprovalRow
from sessions.locks import try_file_lock
from sessions.reindex_scan import Scanned, scan_home, worker_pool

STARTER = """
import multiprocessing, time
from sessions.reindex_scan import worker_pool
pool = worker_pool(2)
busy = [pool.submit(time.sleep, 0.3) for _ in range(2)]  # two tasks: two workers start
for task in busy:
    task.result()
print(" ".join(str(p.pid) for p in multiprocessing.active_children()), flush=True)
time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited; whoever adopted it has yet to reap it


def _ignores(pid: int, signum: int) -> bool:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigIgn:"):
            return bool(int(line.split()[1], 16) & (1 << (signum - 1)))
    raise AssertionError(f"no SigIgn line for {pid}")


def _wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not (met := condition()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return met


def _wait_until_dead(pids: list[int], timeout: float = 10.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while (alive := [p for p in pids if _alive(p)]) and time.monotonic() < deadline:
        time.sleep(0.02)
    return alive


def test_workers_die_with_the_process_that_started_them() -> None:
    starter = subprocess.Popen(
        [sys.executable, "-c", STARTER], stdout=subprocess.PIPE, text=True, cwd=Path.cwd()
    )
    try:
        assert starter.stdout is not None
        workers = [int(p) for p in starter.stdout.readline().split()]
        assert len(workers) == 2 and starter.pid not in workers
        assert all(_alive(p) for p in workers)
        # Ctrl-C in a terminal reaches the workers too: they leave it to the parent. (On a
        # busy machine one worker may have run both tasks while the other was still
        # starting, with Ctrl-C blocked until its initializer ignores it.)
        assert _wait_until(lambda: all(_ignores(p, signal.SIGINT) for p in workers))
        os.kill(starter.pid, signal.SIGKILL)  # no shutdown, no clean exit: a crash
        starter.wait(timeout=10)
        assert _wait_until_dead(workers) == []
    finally:
        starter.kill()
        starter.wait(timeout=10)


def test_a_worker_runs_in_another_process() -> None:
    pool = worker_pool(2)
    try:
        assert pool.submit(os.getpid).result(timeout=30) != os.getpid()
    finally:
        pool.shutdown(wait=True)


def test_a_worker_still_starting_leaves_ctrl_c_to_the_parent() -> None:
    """Ctrl-C can come while a worker is still importing (before it could ignore it):
    it must not kill the worker (a traceback each, and a broken pool in the parent)."""
    before = {p.pid for p in multiprocessing.active_children()}
    pool = worker_pool(1)
    try:
        task = pool.submit(os.getpid)
        [worker] = [p.pid for p in multiprocessing.active_children() if p.pid not in before]
        assert worker is not None
        os.kill(worker, signal.SIGINT)  # microseconds after its start: not yet Python
        assert task.result(timeout=30) == worker
        # The parent blocked Ctrl-C only while it started the worker.
        assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, [])
    finally:
        pool.shutdown(wait=True)


def _sessions(home: Home, count: int) -> None:
    """``count`` sessions, a thread each (threads fall in several shards)."""
    atomic.set_fsync(False)  # fsync changes how long this takes, not what is written
    try:
        store = SessionStore(home)
        for n in range(count):
            thread = ThreadKey(team="T0W", channel="C0W", thread_ts=f"1700{n:06d}.000100")
            record = store.create(thread=thread, parent_id=None, cause="message", session_md="x")
            ThreadDir(home, thread).ensure()
            ThreadDir(home, thread).set_head(record.id)
    finally:
        atomic.set_fsync(True)


def _held(batches: list[weakref.ref[Scanned]], *, at_most: int, timeout: float = 10.0) -> bool:
    """Are at most ``at_most`` of ``batches`` still alive (waiting ``timeout`` for it)?

    The pool's thread keeps the result it received last in its locals until the next one
    comes, and with two workers that may be one the loop has already had (results can
    arrive in another order than they are handed over): at most one such batch, ever.
    Rows hold no cycles, so nothing else keeps a batch alive. A pool thread on a busy
    machine (a full test run beside a soak) took over 2 s to let one go: 10 s, as a bound."""
    deadline = time.monotonic() + timeout
    while sum(ref() is not None for ref in batches) > at_most:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


async def test_the_parent_keeps_no_batch_it_has_written(home: Home) -> None:
    """Rows reach the index as they come, and go: the parent's memory is a few batches,
    not the whole home's rows until the last one."""
    _sessions(home, 12)
    batches: list[weakref.ref[Scanned]] = []
    async with contextlib.aclosing(scan_home(home, None, processes=2)) as scans:
        async for scanned in scans:
            batches.append(weakref.ref(scanned))
            del scanned
            assert _held(batches[:-1], at_most=1)
    assert len(batches) > 3  # several tasks, or the check above checked nothing


def _dies(home: Home, directory: Path, record: SessionRecord) -> Iterator[ApprovalRow]:
    os._exit(3)  # a worker the kernel killed (out of memory): the pool breaks


async def test_a_worker_that_dies_fails_the_rebuild_once(home: Home) -> None:
    """Every task then fails with the broken pool: the rebuild fails with it, and the
    tasks it no longer waits for are not each logged as an exception never retrieved."""
    _sessions(home, 12)
    unretrieved: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _, context: unretrieved.append(context))
    with pytest.raises(BrokenProcessPool):
        await reindex(home, scan_approvals=_dies, processes=2)
    for _ in range(3):
        await asyncio.sleep(0)  # what the pool's thread had queued for the loop
    gc.collect()
    assert [c["message"] for c in unretrieved] == []
    assert not home.index_path.exists()
    # Nor is its half-built index left beside it until the next reindex (at 100k
    # sessions, tens of megabytes).
    assert list(home.root.glob("index.sqlite3*")) == []
    with try_file_lock(home.index_lock) as held:
        assert held


async def test_a_cancelled_rebuild_leaves_no_half_built_index(home: Home) -> None:
    """Ctrl-C during ``signoff reindex`` (a cancel, under ``asyncio.run``): its half-built
    index goes at once, the lock is free, and the next rebuild is whole."""
    _sessions(home, 3)
    halfway: list[Path] = []

    def cancel_the_rebuild(
        h: Home, directory: Path, record: SessionRecord
    ) -> Iterator[ApprovalRow]:
        halfway.extend(h.root.glob("index.sqlite3.rebuild-*"))
        rebuild = asyncio.current_task()  # read in this process (``processes=1``)
        assert rebuild is not None
        rebuild.cancel()
        return iter(())

    with pytest.raises(asyncio.CancelledError):
        await reindex(home, scan_approvals=cancel_the_rebuild, processes=1)
    assert halfway  # it was cancelled while the rebuild was on disk
    assert list(home.root.glob("index.sqlite3*")) == []
    with try_file_lock(home.index_lock) as held:
        assert held
    counts = await reindex(home, processes=1)
    assert (counts["sessions"], counts["threads"]) == (3, 3)
