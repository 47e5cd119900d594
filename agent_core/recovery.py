"""Start-up recovery (design flow 7): find what a crash left in motion, and wake it.

It costs what is in flight, not what is stored: threads with a work-queue marker (a
message not yet recorded, a decision not yet told, a session that was running), sessions
the index says were open, and approvals the index says were decided but not told. Each
thread found is woken; its worker, under the thread lock, does the rest. Nothing here
is capped: every list is paged through.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import time

from approvals import ApprovalRequest, ApprovalsError, scan_session_approvals
from sessions import (
    TERMINAL_STATES,
    AlreadyExistsError,
    ApprovalRow,
    LockBusyError,
    SessionRecord,
    SessionsError,
    SessionState,
    SignoffError,
    ThreadDir,
    ThreadKey,
    create_only,
    dir_lock_async,
    lineage,
    make_dirs,
    off_loop,
    seal_after_crash,
    staging_dirs,
)

from .runtime import Runtime
from .worker import close_crashed

__all__ = ["ended_unsealed", "find_work", "seal_ended"]

log = logging.getLogger("signoff.recovery")

# How long a seal waits for its session's directory lock: a terminal suspended (Ctrl-Z)
# inside its ending transition holds it without end, and the sweep that waits here serves
# every thread. Left then for the next pass (or start), which seals it once it is free.
SEAL_WAIT = 1.0

# The states a stop or a crash leaves open ("interrupted": the drain cut its turn and said
# so; "running" and "created": the process died first): all but the final ones.
_OPEN = tuple(s.value for s in SessionState if s not in TERMINAL_STATES)


def _clean_staging(rt: Runtime, *, older_than: float = 60.0) -> int:
    """Half-built session directories a crash left: never visible, safe to remove. Those
    of older versions (in the shards) are looked for until none is left, then never: a
    listing of every shard cost 0.18 s of each start at 10k sessions."""
    done = rt.home.upgrade_dir / "session-staging"
    from_before = not done.exists()
    removed, spared = 0, 0
    cutoff = time.time() - older_than
    for path in staging_dirs(rt.home, from_before=from_before):
        try:
            old = path.stat().st_mtime < cutoff
        except FileNotFoundError:
            continue  # renamed into place or removed meanwhile
        if old:
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
        elif path.parent != rt.home.session_staging_dir:
            spared += 1  # in flight, or just left: looked for again at the next start
    if from_before and not spared:
        make_dirs(done.parent)
        with contextlib.suppress(AlreadyExistsError):  # another process did the same
            create_only(done, b"")
    return removed


async def seal_ended(rt: Runtime, record: SessionRecord) -> None:
    """``record`` ended (on disk) while the index still has it open: a crash came between
    its final state and its seal (and maybe between a write and its sync, so the seal
    flushes every file), or the index lagged one step. Under the directory's lock, which
    its transition holds until it is sealed: one found unsealed there was left so."""
    directory = rt.home.session_dir(record.id)
    try:
        async with dir_lock_async(directory, give_up_after=SEAL_WAIT):
            await off_loop(seal_after_crash, directory)
    except LockBusyError:
        log.warning("%s is being ended by another process; sealed on a later pass", record.id)
        return
    await rt.index.put_session(record)
    rows: list[ApprovalRow] = []
    try:
        rows.extend(scan_session_approvals(rt.home, directory, record))
    except (SignoffError, ValueError, OSError) as exc:
        # That request's problem (verify and the audit flag it): the session's others,
        # read before it was raised, are indexed, and start-up goes on.
        log.warning("recovery leaves a request of %s out of the index: %s", record.id, exc)
    await rt.index.put_approvals(rows)


async def ended_unsealed(rt: Runtime) -> None:
    """What ``find_work`` does for a session that ended with no seal, while a bot runs (its
    sweep): a terminal command killed mid-way left it, and no start came since."""
    async for row in rt.index.iter_sessions(states=_OPEN):
        try:
            record = rt.store.load(row.id)
        except SessionsError:
            continue  # recovery says why, at the next start
        if record.terminal:
            await seal_ended(rt, record)


async def _open_sessions(rt: Runtime, wake: set[ThreadKey], counts: dict[str, int]) -> None:
    async for row in rt.index.iter_sessions(states=_OPEN):
        try:
            record = rt.store.load(row.id)
        except SessionsError as exc:
            log.warning("recovery skips session %s: %s", row.id, exc)
            continue
        if record.terminal:
            await seal_ended(rt, record)
            wake.add(record.thread)
            continue
        wake.add(record.thread)
        tdir = ThreadDir(rt.home, record.thread)
        with rt.coordination.thread_locks.try_hold(record.thread) as free:
            if not free:
                continue  # a live process is running it: no crash (`signoff recover` beside)
            counts["crashed"] += 1
            head = tdir.adopt_head(rt.store)
            chain = {s.id for s in lineage(rt.store, head)} if head else set()
            if record.id not in chain:
                # Not on the thread's line (a version before deterministic ids could leave
                # one): nothing continues from it, so it is only closed.
                await close_crashed(rt, record)
                counts["orphans"] += 1


async def _mark_waiting(rt: Runtime, wake: set[ThreadKey], counts: dict[str, int]) -> None:
    """Give every request the index holds as waiting its thread's open-approval marker,
    once per home (``upgrade/open-approvals`` says it was done).

    Versions before those markers (until 2026-12-02) parked requests without one, and a
    worker settles only what its thread's markers name: approved after the upgrade, such
    a request never ran, and one decided but not told before it stayed untold (the old
    bot left its index row "pending"). Wakes the thread of each marker made, which
    settles a decision already on disk. Every version since writes the marker with the
    request, so the scan (a stat or two per waiting request) runs at the first start
    after the upgrade only, not at every start of a home with 100k waiting requests.
    """
    done = rt.home.upgrade_dir / "open-approvals"
    if done.exists():
        return
    async for row in rt.index.iter_approvals(status="pending"):
        tdir = ThreadDir(rt.home, row.thread)
        if tdir.path.is_dir() and tdir.open_approval(row.id):
            wake.add(row.thread)
            counts["unmarked"] += 1
    make_dirs(done.parent)
    try:
        create_only(done, b"")
    except AlreadyExistsError:
        pass  # another process finished the same scan


async def find_work(rt: Runtime) -> tuple[set[ThreadKey], dict[str, int]]:
    """The threads to wake after a restart, and what was found."""
    counts = {"crashed": 0, "orphans": 0, "queued": 0, "untold": 0, "staging": 0, "unmarked": 0}
    counts["staging"] = _clean_staging(rt)
    wake: set[ThreadKey] = set()
    await _open_sessions(rt, wake, counts)
    for thread in await off_loop(rt.coordination.work_queue.threads):
        wake.add(thread)
        counts["queued"] += 1
    await _mark_waiting(rt, wake, counts)
    async for row in rt.index.iter_approvals(untold=True):
        try:
            request = ApprovalRequest.open(rt.home, row.id, clock=rt.clock)
            if request.told() is not None:
                continue
            request.reopen()
        except (SessionsError, ApprovalsError) as exc:
            # One unreadable record is that approval's problem, not a stop of start-up.
            log.warning("recovery skips approval %s: %s", row.id, exc)
            continue
        wake.add(request.thread)
        counts["untold"] += 1
    return wake, counts
