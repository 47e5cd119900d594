"""Homes at scale (issue 14): ``signoff reindex`` time and inodes per session.

    python bench/home_scale_bench.py [sessions] [home]            reindex
    python bench/home_scale_bench.py --pending [approvals] [home]  start-up

Given a home that exists, it reuses it (building a large home takes minutes). The
start-up figure is ``Engine.open`` plus ``recover`` on a home whose sessions each wait
on one approval (their cards already posted), without a Slack surface.

Builds a home of completed sessions, one thread each (HEAD and one consumed message),
through the public storage API with fsync off, then times ``reindex`` and counts inodes
and the largest directory. It uses only APIs older than sharding, so the same script
measures an older checkout (PYTHONPATH=<checkout>) for a before/after figure.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from agent_core.demo_fleet import demo_registry
from agent_core.engine import Engine
from agent_core.offline import OfflineModel
from approvals import ApprovalRequest, PolicyRule, build_capsule, scan_session_approvals
from sessions import (
    FixedClock,
    Home,
    InboxMessage,
    SessionFiles,
    SessionState,
    SessionStore,
    ThreadDir,
    ThreadKey,
    atomic,
    reindex,
)

__all__ = ["build_home", "build_pending", "main", "startup"]


def _thread(n: int) -> ThreadKey:
    return ThreadKey(team="T0BENCH", channel=f"C0CH{n % 50:03d}", thread_ts=f"1700{n:06d}.000100")


def build_home(root: Path, total: int) -> Home:
    home = Home(root)
    home.ensure()
    store = SessionStore(home)
    for n in range(total):
        thread = _thread(n)
        tdir = ThreadDir(home, thread)
        tdir.ensure()
        message = InboxMessage(
            thread=thread,
            ts=thread.thread_ts,
            user="U0ALICE",
            text="status of api",
            received_at="2026-01-01T00:00:00.000Z",
            event_id=f"Ev{n:09d}",
        )
        tdir.inbox.deliver(message)
        record = store.create(thread=thread, parent_id=None, cause="message", session_md="x\n")
        files = SessionFiles(home.session_dir(record.id))
        files.append_transcript({"role": "user", "text": "status of api", "ts": thread.thread_ts})
        files.trace("message", {"text": "status of api"})
        store.transition(record.id, expected=SessionState.CREATED, new=SessionState.RUNNING)
        store.transition(record.id, expected=SessionState.RUNNING, new=SessionState.COMPLETED)
        tdir.inbox.mark_consumed(message.key)
        tdir.set_head(record.id)
    return home


def clone_home(root: Path, total: int) -> Home:
    """``build_home`` for large homes: one session built through the API, then cloned
    with hard links (its own session.json, HEAD and message per clone)."""
    template = build_home(root, 1)
    [tid] = SessionStore(template).all_ids()
    source = template.session_dir(tid)
    record = SessionStore(template).load(tid)
    files = [n for n in os.listdir(source) if (source / n).is_file() and n != "session.json"]
    thread0 = _thread(0)
    taken = (template.thread_dir(thread0) / "inbox" / "taken.jsonl").read_text()
    for n in range(1, total):
        sid = "sess_" + hashlib.sha256(f"clone:{n}".encode()).hexdigest()[:12]
        thread = _thread(n)
        target = template.sessions_dir / sid[5:7] / sid
        target.mkdir(parents=True)
        for name in files:
            try:
                os.link(source / name, target / name)
            except OSError:  # ext4 allows 65,000 links to one file
                shutil.copyfile(source / name, target / name)
        clone = record.model_copy(update={"id": sid, "thread": thread})
        (target / "session.json").write_text(clone.model_dump_json(indent=2))
        tdir = template.thread_dir(thread)
        (tdir / "inbox" / "new").mkdir(parents=True)
        (tdir / "HEAD").write_text(sid + "\n")
        (tdir / "inbox" / "taken.jsonl").write_text(
            taken.replace(thread0.thread_ts, thread.thread_ts)
        )
    return template


def build_pending(root: Path, total: int) -> Home:
    """``total`` sessions parked on one approval each, cards recorded, index built."""
    home = Home(root)
    home.ensure()
    store = SessionStore(home)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(total):
        thread = _thread(n)
        ThreadDir(home, thread).ensure()
        record = store.create(thread=thread, parent_id=None, cause="message", session_md="x\n")
        store.transition(record.id, expected=SessionState.CREATED, new=SessionState.RUNNING)
        capsule = build_capsule(
            session_id=record.id,
            thread=thread,
            call_id="call_1",
            tool="restart_service",
            tool_version="1",
            arguments={"service": "api"},
            requester="U0ALICE",
            reason="",
            policy=PolicyRule(expires_after_seconds=30 * 86400),
            now=now,
        )
        request = ApprovalRequest.create(home, capsule)
        request.record_card(channel=thread.channel, ts=f"1800{n:06d}.000100")
        store.transition(
            record.id, expected=SessionState.RUNNING, new=SessionState.AWAITING_APPROVAL
        )
        ThreadDir(home, thread).set_head(record.id)
    for path in (home.root / "outbox" / "pending").glob("*.json"):
        path.unlink()  # the cards were posted (record_card above)
    return home


async def startup(total: int, keep: Path | None) -> None:
    atomic.set_fsync(False)
    with tempfile.TemporaryDirectory(prefix="signoff-home-bench-") as tmp:
        root = keep or Path(tmp) / "home"
        start = time.perf_counter()
        home = Home(root) if (root / "threads").exists() else build_pending(root, total)
        built = time.perf_counter() - start
        if not home.index_path.exists():
            await reindex(home, scan_approvals=scan_session_approvals)
        atomic.set_fsync(True)
        clock = FixedClock(datetime(2026, 1, 2, tzinfo=UTC))
        start = time.perf_counter()
        engine = await Engine.open(
            home=home, surface=None, clock=clock, model=OfflineModel(), registry=demo_registry()
        )
        counts = await engine.recover()
        took = time.perf_counter() - start
        await engine.close()
        print(f"pending approvals   {total:>10,}   (built in {built:.1f} s, fsync off)")
        print(f"open + recover      {took:>10.3f} s  ({took / total * 1e6:.1f} µs per approval)")
        print(f"found               {counts}")


def _census(home: Home) -> tuple[int, int, int]:
    """(inodes under sessions/, session count, entries in the largest directory)."""
    inodes = sessions = biggest = 0
    for path, dirs, files in os.walk(home.root):
        biggest = max(biggest, len(dirs) + len(files))
        if Path(path).is_relative_to(home.sessions_dir):
            inodes += 1 + len(files)
            sessions += sum(1 for d in dirs if d.startswith("sess_"))
    return inodes, sessions, biggest


async def main(total: int, keep: Path | None) -> None:
    atomic.set_fsync(False)
    with tempfile.TemporaryDirectory(prefix="signoff-home-bench-") as tmp:
        root = keep or Path(tmp) / "home"
        start = time.perf_counter()
        home = Home(root) if (root / "threads").exists() else clone_home(root, total)
        built = time.perf_counter() - start
        inodes, sessions, biggest = _census(home)
        atomic.set_fsync(True)
        start = time.perf_counter()
        counts = await reindex(home, scan_approvals=scan_session_approvals)
        took = time.perf_counter() - start
        print(f"sessions            {total:>10,}   (built in {built:.1f} s, fsync off)")
        print(f"reindex             {took:>10.2f} s  ({took / total * 1e6:.0f} µs per session)")
        print(f"rows                {counts}")
        print(f"inodes per session  {(inodes - 1) / max(sessions, 1):>10.1f}   (sessions/ tree)")
        print(f"largest directory   {biggest:>10,} entries")


if __name__ == "__main__":
    args = sys.argv[1:]
    run = startup if args[:1] == ["--pending"] else main
    args = args[1:] if run is startup else args
    asyncio.run(run(int(args[0]) if args else 20_000, Path(args[1]) if len(args) > 1 else None))
