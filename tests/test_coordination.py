"""The contract of ``sessions.Coordination``: what any backend (today the directory tree;
a shared database for several replicas) must guarantee to the engine. Parametrized over
the implementations, so a new backend is added to ``BACKENDS`` and must pass unchanged."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from sessions import (
    Coordination,
    DirectoryCoordination,
    Home,
    OutboxEntry,
    ThreadKey,
    atomic,
    coordination_for,
)
from sessions.outbox import OutboxDone

BACKENDS: dict[str, Callable[[Home], Coordination]] = {"directory": DirectoryCoordination}

T1 = ThreadKey(team="T0LOCAL", channel="C0OPS", thread_ts="1700000000.000100")
T2 = ThreadKey(team="T0LOCAL", channel="C0OPS", thread_ts="1700000000.000200")


@pytest.fixture(params=sorted(BACKENDS))
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Coordination]:
    """A fresh view of one shared store each call: what another process would open."""
    home = Home(tmp_path / "home")
    home.ensure()
    backend = BACKENDS[request.param]
    return lambda: backend(home)


def entry(entry_id: str, seq: int, thread: ThreadKey = T1) -> OutboxEntry:
    return OutboxEntry(
        id=entry_id, kind="reply", thread=thread, created_at="2026-12-02T00:00:00Z", seq=seq
    )


def done(e: OutboxEntry) -> OutboxDone:
    return OutboxDone(id=e.id, entry=e, at="2026-12-02T00:00:01Z", outcome="sent")


def test_the_home_default_is_the_directory_tree(tmp_path: Path) -> None:
    assert isinstance(coordination_for(Home(tmp_path)), DirectoryCoordination)


def test_work_queue_marks_are_idempotent_shared_and_cleared(
    make: Callable[[], Coordination],
) -> None:
    a, b = make(), make()
    assert a.work_queue.threads() == []
    a.work_queue.mark(T1)
    a.work_queue.mark(T1)
    b.work_queue.mark(T2)
    assert sorted(b.work_queue.threads(), key=str) == sorted([T1, T2], key=str)
    b.work_queue.clear(T1)
    b.work_queue.clear(T1)  # clearing twice is not an error
    assert a.work_queue.threads() == [T2]


def test_outbox_entries_are_create_only_ordered_and_sent_once(
    make: Callable[[], Coordination],
) -> None:
    a, b = make(), make()
    later, first = entry("reply-a", 20), entry("reply-b", 10)
    assert a.outbox.enqueue(later) is True
    assert b.outbox.enqueue(later) is False  # already queued, by anyone
    assert a.outbox.enqueue(first) is True
    assert [e.id for e in b.outbox.pending()] == ["reply-b", "reply-a"]
    assert a.outbox.depth() == 2 and a.outbox.queued(T1, "reply-a")
    b.outbox.complete([done(first)])
    b.outbox.complete([done(first)])  # a second drainer finishing it changes nothing
    assert [e.id for e in a.outbox.pending()] == ["reply-a"]
    assert a.outbox.enqueue(first) is False  # sent before: never queued again
    sent = a.outbox.done(T1, "reply-b")
    assert sent is not None and sent.outcome == "sent" and sent.entry == first
    assert a.outbox.done(T1, "reply-a") is None and a.outbox.queued(T1, "reply-b")


def test_a_threads_outbox_reads_as_what_ended_and_what_waits_without_touching_it(
    make: Callable[[], Coordination],
) -> None:
    """For traces: any process may ask, and asking sends, clears or moves nothing."""
    a, b = make(), make()
    for e in (entry("reply-c", 30), entry("reply-a", 10), entry("reply-b", 20)):
        a.outbox.enqueue(e)
    a.outbox.enqueue(entry("reply-x", 5, thread=T2))
    first = entry("reply-a", 10)
    a.outbox.complete([done(first)])
    assert [d.id for d in b.outbox.results(T1)] == ["reply-a"]
    assert b.outbox.results(T1)[0].entry == first
    assert [e.id for e in b.outbox.waiting(T1)] == ["reply-b", "reply-c"]
    assert [e.id for e in b.outbox.waiting(T2)] == ["reply-x"] and b.outbox.results(T2) == []
    assert a.outbox.depth() == 3  # nothing taken away by looking


def test_one_drainer_at_a_time(make: Callable[[], Coordination]) -> None:
    a, b = make(), make()
    held = a.outbox.claim_drainer()
    assert held is not None
    assert b.outbox.claim_drainer() is None
    held.release()
    held.release()  # idempotent
    again = b.outbox.claim_drainer()
    assert again is not None
    again.release()


async def test_a_thread_has_one_holder_and_others_wait(
    make: Callable[[], Coordination],
) -> None:
    a, b = make(), make()
    order: list[str] = []
    async with a.thread_locks.hold(T1):
        with b.thread_locks.try_hold(T1) as free:
            assert free is False
        with b.thread_locks.try_hold(T2) as free:
            assert free is True  # other threads are independent

        async def second() -> None:
            async with b.thread_locks.hold(T1):
                order.append("second")

        waiting = asyncio.create_task(second())
        await asyncio.sleep(0.05)
        assert not waiting.done()
        order.append("first")
    await asyncio.wait_for(waiting, timeout=5)
    assert order == ["first", "second"]


def test_a_killed_holder_releases_the_thread_and_the_drainer(
    make: Callable[[], Coordination], tmp_path: Path
) -> None:
    """A SIGKILL must never leave a thread locked or the outbox without a drainer."""
    coordination = make()
    assert isinstance(coordination, DirectoryCoordination)  # the child rebuilds this one
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        from pathlib import Path
        from sessions import DirectoryCoordination, Home, ThreadKey
        c = DirectoryCoordination(Home(Path({str(coordination.home.root)!r})))
        thread = ThreadKey(team="{T1.team}", channel="{T1.channel}", thread_ts="{T1.thread_ts}")
        async def main() -> None:
            claim = c.outbox.claim_drainer()
            async with c.thread_locks.hold(thread):
                print("held" if claim else "no-claim", flush=True)
                await asyncio.sleep(60)
        asyncio.run(main())
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "held"
        with coordination.thread_locks.try_hold(T1) as free:
            assert free is False
        # Who holds it, for a person waiting on it (a backend that cannot know says None).
        assert coordination.thread_locks.holder(T1) == child.pid
        assert coordination.thread_locks.holder(T2) is None
        assert coordination.outbox.claim_drainer() is None
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        assert coordination.thread_locks.holder(T1) is None
        with coordination.thread_locks.try_hold(T1) as free:
            assert free is True
        claim = coordination.outbox.claim_drainer()
        assert claim is not None
        claim.release()
    finally:
        child.kill()
        child.wait(timeout=10)


def test_the_outbox_reads_each_pending_entry_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Delivery looks at the outbox on every turn: entries are create-only, so a second
    look reads only what is new (it read every file each time: O(n²) under a burst)."""
    home = Home(tmp_path / "home")
    home.ensure()
    outbox = DirectoryCoordination(home).outbox
    for n in range(5):
        outbox.enqueue(entry(f"reply-{n}", n))
    reads: list[str] = []
    real = atomic.read_file

    def counting(path: str | os.PathLike[str]) -> bytes:
        if Path(path).parent.name == "pending":
            reads.append(Path(path).name)
        return real(path)

    monkeypatch.setattr("sessions.outbox.read_file", counting)  # what it reads entries with
    assert len(outbox.pending()) == 5
    outbox.enqueue(entry("reply-5", 5))
    assert [e.id for e in outbox.pending()][-1] == "reply-5"
    assert len(reads) == 6
    # Done by another drainer that died before removing the pending file: dropped even
    # though this process had already read it.
    other = DirectoryCoordination(home).outbox
    first = entry("reply-0", 0)
    other.complete([done(first)])
    (outbox.pending_dir / "reply-0.json").write_bytes(first.model_dump_json().encode())
    assert [e.id for e in outbox.pending()] == [f"reply-{n}" for n in range(1, 6)]
    assert not (outbox.pending_dir / "reply-0.json").exists()


def test_the_drainer_looks_up_each_entry_once_yet_never_returns_one_it_completed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While it holds the drain lock only this process records results, so a pass looks
    an entry up in its thread's log once, not on every pass. What it completes itself is
    looked up again (its pending file's unlink may have failed), and so is everything
    when it claims the lock anew (a drainer that died may have recorded results)."""
    home = Home(tmp_path / "home")
    home.ensure()
    outbox = DirectoryCoordination(home).outbox
    entries = [entry(f"reply-{n}", n) for n in range(4)]
    for e in entries:
        outbox.enqueue(e)
    lock = outbox.claim_drainer()
    assert lock is not None
    looked: list[str] = []
    real = outbox._done_bytes

    def counting(thread: ThreadKey, entry_id: str) -> tuple[bytes, str] | None:
        looked.append(entry_id)
        return real(thread, entry_id)

    monkeypatch.setattr(outbox, "_done_bytes", counting)
    assert len(outbox.pending()) == 4
    assert len(outbox.pending()) == 4
    assert len(looked) == 4  # the second pass looked nothing up
    # Completed, but the unlink of its pending file failed (a disk error).
    real_unlink = Path.unlink

    def failing(self: Path, missing_ok: bool = False) -> None:
        if self.name == "reply-0.json":
            raise PermissionError(13, "Permission denied", str(self))
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", failing)
    with pytest.raises(PermissionError):
        outbox.complete([done(entries[0])])
    monkeypatch.setattr(Path, "unlink", real_unlink)
    assert [e.id for e in outbox.pending()] == ["reply-1", "reply-2", "reply-3"]
    assert not (outbox.pending_dir / "reply-0.json").exists()  # cleared as done
    # A claim anew: a drainer in between (this one's lock released) completed reply-1.
    lock.release()
    before = len(looked)
    assert len(outbox.pending()) == 3
    assert len(looked) == before + 3  # not holding the lock: every pass looks each one up
    other = DirectoryCoordination(home).outbox
    other_lock = other.claim_drainer()
    assert other_lock is not None
    other.complete([done(entries[1])])
    (outbox.pending_dir / "reply-1.json").write_bytes(entries[1].model_dump_json().encode())
    other_lock.release()
    again = outbox.claim_drainer()
    assert again is not None
    assert [e.id for e in outbox.pending()] == ["reply-2", "reply-3"]
    again.release()
