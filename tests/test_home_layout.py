"""Homes at scale (issue 14): sharded session directories, few inodes per session.

A session lives in ``sessions/<2 hex>/sess_<12 hex>/`` and an approval's pointer in
``approvals/<2 hex>/appr_<16 hex>``, so no directory grows past ~4k entries at a million
sessions; a home written in the old flat layout is migrated at start-up (and read before).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from engine_support import THREAD, chain, message, replies, restarts

from agent_core.demo_fleet import demo_registry
from agent_core.engine import Engine
from agent_core.offline import OfflineModel
from agent_core.surface import RecordingSurface
from approvals import scan_session_approvals
from sessions import (
    Home,
    SessionRecord,
    SessionState,
    SessionStore,
    ThreadDir,
    ThreadKey,
    Transition,
    WorkQueue,
    atomic,
    iter_thread_keys,
    reindex,
    seal,
    thread_shard,
    verify,
)
from sessions.layout import migrate_flat_layout

SHARD_CAP = 256  # shards of a directory: sessions/ (beside its .staging), approvals/, a channel


@pytest.fixture
def no_fsync() -> Iterator[None]:
    atomic.set_fsync(False)
    yield
    atomic.set_fsync(True)


def _entries_per_dir(root: Path) -> dict[str, int]:
    return {path: len(dirs) + len(files) for path, dirs, files in os.walk(root)}


def _flatten(home: Home) -> None:
    """Rewrite a home into the layout of the versions before sharding."""
    for shard in list(home.sessions_dir.iterdir()):
        for session in shard.iterdir():
            for sub in ("tickets", "approvals", "workspace", "logs"):
                (session / sub).mkdir(exist_ok=True)
            (session / "state.lock").touch()
            os.rename(session, home.sessions_dir / session.name)
        shard.rmdir()
    pointers = home.root / "approvals"
    for shard in list(pointers.iterdir()) if pointers.exists() else []:
        for pointer in shard.iterdir():
            os.rename(pointer, pointers / pointer.name)
        shard.rmdir()
    for channel in home.threads_dir.glob("*/*"):
        for shard in list(channel.iterdir()):
            for thread in shard.iterdir():
                os.rename(thread, channel / thread.name)
            shard.rmdir()


def _old_session(home: Home, n: int) -> str:
    """One session as the flat layout stored it: a directory straight under sessions/."""
    sid = "sess_" + hashlib.sha256(str(n).encode()).hexdigest()[:12]
    now = "2026-01-01T00:00:00.000Z"
    record = SessionRecord(
        id=sid,
        parent_id=None,
        thread=ThreadKey(team="T0LOCAL", channel="C0OPS", thread_ts=f"1700000000.{n:06d}"),
        state=SessionState.COMPLETED,
        created_at=now,
        transitions=(
            Transition(state=SessionState.CREATED, at=now, reason="message"),
            Transition(state=SessionState.COMPLETED, at=now),
        ),
        cause="message",
    )
    directory = home.sessions_dir / sid
    directory.mkdir()
    (directory / "session.json").write_text(record.model_dump_json())
    return sid


def test_a_session_lands_in_its_shard(home: Home) -> None:
    record = SessionStore(home).create(
        thread=THREAD, parent_id=None, cause="message", session_md="hi\n"
    )
    directory = home.session_dir(record.id)
    assert directory == home.sessions_dir / record.id[5:7] / record.id
    assert directory.is_dir()
    # Built in sessions/.staging/, renamed into its shard whole.
    assert sorted(os.listdir(home.sessions_dir)) == [".staging", record.id[5:7]]
    assert os.listdir(home.session_staging_dir) == []
    assert os.listdir(home.sessions_dir / record.id[5:7]) == [record.id]
    assert SessionStore(home).all_ids() == [record.id]


def test_no_directory_above_the_cap_in_a_generated_home(home: Home, no_fsync: None) -> None:
    store = SessionStore(home)
    for n in range(3000):
        thread = ThreadKey(team="T0LOCAL", channel="C0OPS", thread_ts=f"1700000000.{n:06d}")
        store.create(thread=thread, parent_id=None, cause="message", session_md="x\n")
    assert len(store.all_ids()) == 3000
    biggest = max(_entries_per_dir(home.root).values())
    assert biggest <= SHARD_CAP + 1, "a flat sessions/ would hold 3000 entries"


def test_a_session_is_not_built_with_empty_directories_or_a_lock_file(home: Home) -> None:
    store = SessionStore(home)
    record = store.create(thread=THREAD, parent_id=None, cause="message", session_md="hi\n")
    store.transition(record.id, expected=SessionState.CREATED, new=SessionState.RUNNING)
    store.transition(record.id, expected=SessionState.RUNNING, new=SessionState.COMPLETED)
    directory = home.session_dir(record.id)
    present = sorted(os.listdir(directory))
    assert "state.lock" not in present
    assert not {"approvals", "workspace", "logs"} & set(present)
    assert verify(directory).ok


def test_the_state_lock_is_a_flock_on_the_session_directory(home: Home) -> None:
    store = SessionStore(home)
    record = store.create(thread=THREAD, parent_id=None, cause="message", session_md="hi\n")
    fd = os.open(home.session_dir(record.id), os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        from sessions.locks import try_dir_lock

        with try_dir_lock(home.session_dir(record.id)) as free:
            assert not free  # a transition in another process would wait here
    finally:
        os.close(fd)
    with try_dir_lock(home.session_dir(record.id)) as free:
        assert free


def test_an_old_session_with_state_lock_still_verifies(home: Home) -> None:
    store = SessionStore(home)
    record = store.create(thread=THREAD, parent_id=None, cause="message", session_md="hi\n")
    directory = home.session_dir(record.id)
    (directory / "state.lock").write_text("")
    for sub in ("tickets", "approvals", "workspace", "logs"):
        (directory / sub).mkdir(exist_ok=True)
    seal(directory)
    (directory / "state.lock").write_text("lock bytes change freely")
    assert verify(directory).ok


async def test_a_flat_home_of_3k_sessions_is_read_then_migrated(home: Home, no_fsync: None) -> None:
    # 3,000 fill every one of the 256 shards (20,000 took 45 s of the suite to show the
    # same; `python -m bench startup` times reindex of 100k).
    ids = [_old_session(home, n) for n in range(3_000)]
    store = SessionStore(home)
    # Read before any migration: the id finds its flat directory.
    assert store.load(ids[7]).id == ids[7]
    assert home.session_dir(ids[7]) == home.sessions_dir / ids[7]
    assert store.all_ids() == sorted(ids)
    counts = await reindex(home, scan_approvals=scan_session_approvals)
    assert counts["sessions"] == 3_000 and counts["unreadable_sessions"] == 0
    assert not [n for n in os.listdir(home.sessions_dir) if n.startswith("sess_")]
    assert home.session_dir(ids[7]) == home.sessions_dir / ids[7][5:7] / ids[7]
    assert store.load(ids[7]).id == ids[7]
    assert max(_entries_per_dir(home.sessions_dir).values()) <= SHARD_CAP
    assert migrate_flat_layout(home) == {"sessions": 0, "pointers": 0, "threads": 0}


def test_once_migrated_an_id_finds_its_directory_without_a_stat(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each look-up stat'ed the shard's path and, missing, the flat one: 7 a mention on
    the event loop. Once this process moved the home into its shards, nothing is flat."""
    sid, pointer = "sess_ab0000000001", "appr_cd00000000000001"
    migrate_flat_layout(home)
    stats: list[Path] = []
    real_stat = Path.stat

    def counted(path: Path, *, follow_symlinks: bool = True) -> os.stat_result:
        stats.append(path)
        return real_stat(path, follow_symlinks=follow_symlinks)

    monkeypatch.setattr(Path, "stat", counted)
    assert home.session_dir(sid) == home.sessions_dir / "ab" / sid
    assert home.pointer_path(pointer) == home.pointers_dir / "cd" / pointer
    assert Home(home.root).session_dir(sid) == home.sessions_dir / "ab" / sid  # any Home of it
    assert stats == []


def test_a_session_the_migration_could_not_move_is_still_found_flat(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    stuck = _old_session(home, 1)
    real_rename = os.rename

    def refused(source: Any, target: Any) -> None:
        if Path(source).name == stuck:
            raise PermissionError(13, "Permission denied", str(source))
        real_rename(source, target)

    monkeypatch.setattr(os, "rename", refused)
    assert migrate_flat_layout(home)["sessions"] == 0
    assert home.session_dir(stuck) == home.sessions_dir / stuck
    assert SessionStore(home).load(stuck).id == stuck


def test_a_migration_cut_short_resumes(home: Home, no_fsync: None) -> None:
    ids = [_old_session(home, n) for n in range(50)]
    # A crash after some renames: half the sessions are in their shards already.
    for sid in ids[:25]:
        (home.sessions_dir / sid[5:7]).mkdir(exist_ok=True)
        os.rename(home.sessions_dir / sid, home.sessions_dir / sid[5:7] / sid)
    assert SessionStore(home).all_ids() == sorted(ids)  # both halves are read meanwhile
    assert migrate_flat_layout(home) == {"sessions": 25, "pointers": 0, "threads": 0}
    assert SessionStore(home).all_ids() == sorted(ids)
    assert all(home.session_dir(s) == home.sessions_dir / s[5:7] / s for s in ids)


def _inodes(session: Path) -> int:
    """Inodes of one session: its directory and everything under it."""
    return sum(1 + len(files) for _, _, files in os.walk(session))


async def _open(home: Home, clock: Any, surface: RecordingSurface) -> Engine:
    return await Engine.open(
        home=home,
        model=OfflineModel(),
        registry=demo_registry(),
        surface=surface,
        clock=clock,
    )


async def test_an_old_layout_home_recovers_and_resumes_an_approval(home: Home, clock: Any) -> None:
    surface = RecordingSurface()
    engine = await _open(home, clock, surface)
    await engine.ingest(message("<@U0BOT> restart api", ts="1700000000.000100"))
    await engine.idle()
    capsule = surface.cards[0]
    await engine.close()
    _flatten(home)
    home.index_path.unlink()
    assert (home.root / "approvals" / capsule.id).exists()
    assert (home.sessions_dir / capsule.session_id / "state.lock").exists()

    surface = RecordingSurface()
    engine = await _open(home, clock, surface)  # migrates, then rebuilds the index
    try:
        await engine.recover()
        await engine.idle()
        assert not [n for n in os.listdir(home.sessions_dir) if n.startswith("sess_")]
        assert not (home.root / "approvals" / capsule.id).exists()
        assert (await engine.rt.index.approvals(status="pending"))[0].id == capsule.id
        await engine.decide(capsule.id, user="U0BOB", approve=True)
        await engine.idle()
    finally:
        await engine.close()
    assert restarts(home) == 1
    assert replies(surface), surface.replies
    assert all(verify(home.session_dir(s.id)).ok for s in chain(home) if s.terminal)


async def _turns(home: Home, clock: Any, text: str, *, approve: bool) -> list[str]:
    surface = RecordingSurface()
    engine = await _open(home, clock, surface)
    try:
        for n in range(3):
            thread = ThreadKey(team="T0LOCAL", channel="C0OPS", thread_ts=f"170000000{n}.000100")
            await engine.ingest(message(text, ts=thread.thread_ts, thread=thread))
            await engine.idle()
            if approve:
                await engine.decide(surface.cards[-1].id, user="U0BOB", approve=True)
                await engine.idle()
    finally:
        await engine.close()
    return SessionStore(home).all_ids()


def _inodes_per_session(home: Home, sessions: list[str]) -> tuple[float, str]:
    per_session = sum(_inodes(home.session_dir(s)) for s in sessions) / len(sessions)
    shown = json.dumps({s: sorted(os.listdir(home.session_dir(s))) for s in sessions})
    return per_session, shown


async def test_a_plain_turn_costs_at_most_8_inodes_per_session(home: Home, clock: Any) -> None:
    sessions = await _turns(home, clock, "<@U0BOT> status of api", approve=False)
    per_session, shown = _inodes_per_session(home, sessions)
    assert per_session <= 8, f"{per_session:.1f} inodes per session: {shown}"


async def test_a_gated_turn_makes_no_empty_directory(home: Home, clock: Any) -> None:
    sessions = await _turns(home, clock, "<@U0BOT> restart api", approve=True)
    assert len(sessions) == 6  # each turn: the asking session, and the one that ran the call
    per_session, shown = _inodes_per_session(home, sessions)
    # Was 20 (every subdirectory made eagerly, state.lock). What is left above 8 is the
    # asking session's approvals/ with the approval's six create-only records.
    assert per_session <= 11, f"{per_session:.1f} inodes per session: {shown}"
    for session in sessions:
        for path, dirs, files in os.walk(home.session_dir(session)):
            assert dirs or files, f"empty directory {path}"


async def test_recovery_removes_stale_staging_and_looks_in_the_shards_once(
    home: Home, clock: Any
) -> None:
    staged = home.session_staging_dir / "sess_ef0000000000-0123abcd"
    in_shard = home.sessions_dir / "ab" / ".new-sess_ab0000000000-0123abcd"  # older versions
    flat = home.sessions_dir / ".new-sess_cd0000000000-0123abcd"  # from before sharding
    fresh = home.session_staging_dir / "sess_ef0000000001-0123abcd"
    for path in (staged, in_shard, flat, fresh):
        path.mkdir(parents=True)
        (path / "session.json").write_text("{}")
    for path in (staged, in_shard, flat):
        os.utime(path, (1, 1))  # left by a crash long ago
    assert await _recover(home, clock) == 3
    assert not staged.exists() and not in_shard.exists() and not flat.exists()
    assert fresh.exists()  # a creation in flight elsewhere is left alone
    # Every shard was listed once: from now on only sessions/.staging/ is.
    later = home.sessions_dir / "ab" / ".new-sess_ab0000000002-0123abcd"
    later.mkdir()
    os.utime(later, (1, 1))
    assert await _recover(home, clock) == 0


async def test_a_young_staging_of_an_older_version_is_looked_for_again(
    home: Home, clock: Any
) -> None:
    """Just left by the version this one replaced (or still being built by it): spared,
    and the shards are listed again at the next start, until it is gone."""
    young = home.sessions_dir / "ab" / ".new-sess_ab0000000000-0123abcd"
    young.mkdir(parents=True)
    assert await _recover(home, clock) == 0
    os.utime(young, (1, 1))
    assert await _recover(home, clock) == 1
    assert not young.exists()


async def _recover(home: Home, clock: Any) -> int:
    engine = await _open(home, clock, RecordingSurface())
    try:
        counts = await engine.recover()
    finally:
        await engine.close()
    return counts["staging"]


def test_a_burst_of_threads_spreads_over_the_channels_shards(home: Home, no_fsync: None) -> None:
    """A thread a second for an hour (an alerting integration that mentions signoff) still
    leaves a few dozen entries per directory: shards go by a hash of the ts, not its time."""
    keys = [
        ThreadKey(team="T0LOCAL", channel="C0OPS", thread_ts=f"{1_700_000_000 + n}.000100")
        for n in range(3600)
    ]
    for key in keys:
        ThreadDir(home, key).ensure()
    channel = home.threads_dir / "T0LOCAL" / "C0OPS"
    assert len(os.listdir(channel)) == SHARD_CAP
    assert max(len(os.listdir(channel / shard)) for shard in os.listdir(channel)) < 40
    assert ThreadDir(home, keys[0]).path == channel / "99" / "1700000000.000100"
    assert sorted(iter_thread_keys(home), key=lambda k: k.thread_ts) == keys


def test_flat_threads_move_into_their_shards_and_a_cut_short_move_resumes(home: Home) -> None:
    keys = [
        ThreadKey(team="T0LOCAL", channel=channel, thread_ts=f"{1_700_000_000 + n * 50_000}.0")
        for channel in ("C0OPS", "C0DEV")
        for n in range(4)
    ]
    for key in keys:
        tdir = ThreadDir(home, key)
        tdir.ensure()
        (tdir.path / "HEAD").write_text("sess_0123456789ab\n")
    _flatten(home)
    assert sorted(os.listdir(home.threads_dir / "T0LOCAL" / "C0OPS"))[0] == "1700000000.0"
    # A crash after one rename: that thread is in its shard, the rest still flat.
    first = ThreadDir(home, keys[0]).path
    first.parent.mkdir()
    os.rename(home.threads_dir / "T0LOCAL" / "C0OPS" / keys[0].thread_ts, first)
    assert migrate_flat_layout(home) == {"sessions": 0, "pointers": 0, "threads": 7}
    assert migrate_flat_layout(home)["threads"] == 0
    for key in keys:
        assert ThreadDir(home, key).head() == "sess_0123456789ab"
    assert sorted(iter_thread_keys(home), key=lambda k: (k.channel, k.thread_ts)) == sorted(
        keys, key=lambda k: (k.channel, k.thread_ts)
    )


def test_the_work_queue_shards_its_markers_like_the_threads_and_reads_the_old_ones(
    tmp_path: Path, no_fsync: None
) -> None:
    """A burst of 10k new threads left 10k markers in one ``queue/`` directory."""
    home = Home(tmp_path)
    queue = WorkQueue(home)
    threads = [
        ThreadKey(team="T0LOCAL", channel="C0OPS", thread_ts=f"{1_700_000_000 + n}.000100")
        for n in range(1_000)
    ]
    for thread in threads:
        queue.mark(thread)
    for thread in threads[:3]:
        name = f"{thread.team}.{thread.channel}.{thread.thread_ts}"
        assert (queue.root / thread_shard(thread.thread_ts) / name).is_file()
    assert max(len(d) + len(f) for _, d, f in os.walk(queue.root)) <= SHARD_CAP
    old = ThreadKey(team="T0LOCAL", channel="C0OPS", thread_ts="1600000000.000100")
    (queue.root / "T0LOCAL.C0OPS.1600000000.000100").write_bytes(b"")  # a home from before
    assert sorted(queue.threads(), key=str) == sorted([*threads, old], key=str)
    for thread in [*threads, old]:
        queue.clear(thread)
    assert queue.threads() == []


async def test_a_thread_keeps_no_scaffolding_beyond_its_records(home: Home, clock: Any) -> None:
    """A thread's directory holds its records and the directories they need: no staging
    directory for the inbox (a message is staged in ``new/`` under a dot name) and no lock
    file (the thread's lock is a flock on its directory). At 100k one-request threads,
    each inode here is 100k inodes."""
    await _turns(home, clock, "<@U0BOT> restart api", approve=False)
    for thread in iter_thread_keys(home):
        tdir = ThreadDir(home, thread).path
        found = _thread_files(home, thread)
        assert found == [
            "HEAD",
            "approvals",
            f"approvals/{os.listdir(tdir / 'approvals')[0]}",
            "inbox",
            "inbox/new",
            "inbox/taken.jsonl",
            "outbox.jsonl",
        ], found


def _thread_files(home: Home, thread: ThreadKey) -> list[str]:
    tdir = ThreadDir(home, thread).path
    return sorted(os.path.relpath(os.path.join(here, name), tdir)
                  for here, dirs, files in os.walk(tdir) for name in dirs + files)  # fmt: skip


async def test_a_message_costs_a_thread_no_inode_once_taken(home: Home, clock: Any) -> None:
    """What a thread has taken into its sessions is one line each in ``inbox/taken.jsonl``
    (its text is in the transcript), not a file each: a 1,000-message thread held 1,000
    files in ``inbox/cur/``."""
    surface = RecordingSurface()
    engine = await _open(home, clock, surface)
    try:
        for n in range(3):
            await engine.ingest(message(f"<@U0BOT> status of api {n}", ts=f"1700000000.00010{n}"))
            await engine.idle()
    finally:
        await engine.close()
    assert len(replies(surface)) == 3
    assert _thread_files(home, THREAD) == ["HEAD", "inbox", "inbox/new", "inbox/taken.jsonl",
                                           "outbox.jsonl"]  # fmt: skip
    assert ThreadDir(home, THREAD).inbox.taken() == [f"1700000000.00010{n}" for n in range(3)]


async def test_start_up_lists_the_work_queue_once_and_the_sweep_lists_it_off_the_loop(
    home: Home, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its 256 shards are a listing each (13-30 ms at 10k sessions): start-up recovery
    lists them once, not again in its sweep, and the sweep every few seconds lists them on
    a disk thread, not on the event loop every turn shares. A message found queued is
    still answered."""
    ThreadDir(home, THREAD).ensure()
    ThreadDir(home, THREAD).inbox.deliver(message("status of api", ts="1700000000.000100"))
    surface = RecordingSurface()
    engine = await _open(home, clock, surface)
    engine.rt.coordination.work_queue.mark(THREAD)
    listed_on: list[str] = []
    listing = WorkQueue.threads

    def spy(queue: WorkQueue) -> list[ThreadKey]:
        listed_on.append(threading.current_thread().name)
        return listing(queue)

    monkeypatch.setattr(WorkQueue, "threads", spy)
    try:
        counts = await engine.recover()
        await engine.idle()
        assert counts["queued"] == 1 and len(listed_on) == 1, listed_on
        assert replies(surface), surface.replies
        await engine.sweep()
        assert len(listed_on) == 2 and listed_on[-1] != threading.main_thread().name, listed_on
    finally:
        await engine.close()
