"""The trace after a power cut: its lines and payloads are written without a sync each and
made durable by the seal, so a reader meets what an unsynced write leaves, and a sealed
session must keep every name its manifest lists. The records the seal does not flush
again (tickets, capsules, votes) are durable, name and bytes, when their write returns."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest
from engine_support import THREAD, EngineFactory, message

from agent_core.worker import close_crashed
from approvals import ApprovalRequest, PolicyRule, Vote, build_capsule
from sessions import (
    DirectoryCoordination,
    FixedClock,
    Home,
    IntentTicket,
    OutboxEntry,
    SessionFiles,
    SessionStore,
    ThreadDir,
    seal,
    utc_iso,
)

BIG = {"content": "x" * 10_000}


def _session(home: Home, clock: FixedClock) -> Path:
    record = SessionStore(home, clock=clock).create(
        thread=THREAD, parent_id=None, cause="message", session_md="# Session\n", running=True
    )
    return home.session_dir(record.id)


@pytest.mark.parametrize("lost", ["emptied", "torn", "gone"])
def test_a_payload_a_power_cut_lost_leaves_its_event_and_the_rest_readable(
    home: Home, clock: FixedClock, lost: str
) -> None:
    directory = _session(home, clock)
    files = SessionFiles(directory, clock=clock)
    files.trace("tool_finished", BIG)
    files.trace("session_ended", {"state": "failed"})
    # The line reached the disk, its payload's data did not (neither was synced).
    payload = directory / "payloads" / "000001-tool_finished.json"
    if lost == "gone":
        payload.unlink()
    else:
        payload.write_bytes(b"" if lost == "emptied" else payload.read_bytes()[:100])
    events = SessionFiles(directory).read_trace()
    assert [(e.seq, e.kind) for e in events] == [(1, "tool_finished"), (2, "session_ended")]
    assert events[0].data is None and events[0].payload_ref  # what it held is not shown
    assert events[1].data == {"state": "failed"}


@pytest.fixture
def synced(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths ``os.fsync`` is called on from here on (at the OS boundary)."""
    paths: list[str] = []
    real_fsync = os.fsync

    def recording(fd: int) -> None:
        paths.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording)
    return paths


def test_the_seal_makes_the_names_of_unsynced_payloads_durable(
    home: Home, clock: FixedClock, synced: list[str]
) -> None:
    directory = _session(home, clock)
    SessionFiles(directory, clock=clock).trace("tool_finished", BIG)  # payloads/ made here
    synced.clear()
    seal(directory)
    # The payload's bytes are flushed; its name lives in payloads/, which must be too, or
    # a power cut after the seal leaves the manifest naming a file that is not there
    # ("missing": tampering, and an approved call from this session is refused).
    assert str(directory / "payloads" / "000001-tool_finished.json") in synced
    assert str(directory / "payloads") in synced


def test_a_new_threads_directories_are_made_durable_in_their_parents(
    home: Home, synced: list[str]
) -> None:
    """A message is acked once its file is linked into ``new/`` and ``new/`` is synced;
    for a new thread ``new/`` itself, and every directory above it, was just made."""
    tdir = ThreadDir(home, THREAD)
    above = (tdir.path, tdir.path.parent, tdir.path.parent.parent, home.threads_dir)
    fresh = [p for p in above if not p.exists()]
    assert tdir.inbox.deliver(message("restart api", ts="1700000000.000100"))
    assert fresh  # the thread, its channel and team at least
    for made in fresh:
        assert str(made.parent) in synced, made
    assert str(tdir.inbox.root) in synced  # new/ and cur/ are entries of inbox/
    synced.clear()
    tdir.ensure()  # there already: nothing to make, nothing to sync
    assert synced == []


def test_the_trace_lets_its_descriptor_go_and_survives_a_failed_write(
    home: Home, clock: FixedClock
) -> None:
    directory = _session(home, clock)
    files = SessionFiles(directory, clock=clock)
    files.trace("session_started")

    class FullDisk:
        """Writes half of what it is given, then the disk is full."""

        def __init__(self, real: Any) -> None:
            self.real = real

        def write(self, data: Any) -> int:
            self.real.write(bytes(data)[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")

        def close(self) -> None:
            self.real.close()

    assert files._trace_out is not None
    files._trace_out._out = FullDisk(files._trace_out._out)  # type: ignore[assignment]
    with pytest.raises(OSError):
        files.trace("message", {"text": "lost to the full disk"})
    assert files._trace_out is None  # dropped: the next event ends the torn bytes first
    files.trace("session_ended")
    files.close_trace()
    assert files._trace_out is None
    assert [e.kind for e in files.read_trace()] == ["session_started", "session_ended"]


def test_the_seal_flushes_what_was_written_without_a_sync_and_nothing_twice(
    home: Home, clock: FixedClock, synced: list[str]
) -> None:
    """Files written with their own fsync (the session's record and description, the
    transcript, tickets, capsules) are durable already; the trace, its payloads and
    anything else (a tool's files) become durable only here."""
    directory = _session(home, clock)
    files = SessionFiles(directory, clock=clock)
    files.append_transcript({"role": "user", "text": "restart api"})
    files.trace("tool_finished", BIG)
    (directory / "workspace").mkdir()
    (directory / "workspace" / "out.txt").write_text("a tool wrote this")
    synced.clear()
    seal(directory)
    flushed = {os.path.relpath(p, directory) for p in synced}
    assert {"trace.jsonl", "payloads/000001-tool_finished.json", "workspace/out.txt"} <= flushed
    assert not flushed & {"session.json", "SESSION.md", "transcript.jsonl"}


def test_after_a_crash_the_seal_flushes_every_file(
    home: Home, clock: FixedClock, synced: list[str]
) -> None:
    """A crash can come between an append and its fsync: recovery's seal trusts nothing."""
    directory = _session(home, clock)
    SessionFiles(directory, clock=clock).append_transcript({"role": "user", "text": "hi"})
    synced.clear()
    seal(directory, after_crash=True)
    flushed = {os.path.relpath(p, directory) for p in synced}
    assert {"session.json", "SESSION.md", "transcript.jsonl"} <= flushed


async def test_closing_a_session_a_crash_left_open_flushes_every_file(
    make_engine: EngineFactory, home: Home, clock: FixedClock, synced: list[str]
) -> None:
    engine = await make_engine()
    directory = _session(home, clock)
    SessionFiles(directory, clock=clock).append_transcript({"role": "user", "text": "hi"})
    record = SessionStore(home, clock=clock).load(directory.name)
    synced.clear()
    await close_crashed(engine.rt, record)
    flushed = {os.path.relpath(p, directory) for p in synced}
    assert {"session.json", "SESSION.md", "transcript.jsonl"} <= flushed


def test_the_first_ticket_makes_its_files_name_durable(
    home: Home, clock: FixedClock, synced: list[str]
) -> None:
    """An intent is written before its call runs; a power cut that lost ``tickets.jsonl``'s
    name would leave the call looking never started, and it would run again."""
    directory = _session(home, clock)
    files = SessionFiles(directory, clock=clock)
    intent = IntentTicket(at=utc_iso(clock.now()), call_id="c1", tool="t", args_sha256="0" * 64)
    synced.clear()
    files.write_ticket(intent)
    assert str(directory) in synced
    synced.clear()
    files.write_ticket(intent)  # the name is there already: no directory sync
    assert str(directory) not in synced


def test_a_new_requests_capsule_pointer_and_votes_have_durable_names(
    home: Home, clock: FixedClock, synced: list[str]
) -> None:
    """Each directory a request's records are the first in (the session's ``approvals/``,
    the pointer's shard, a votes directory) is synced into its parent."""
    directory = _session(home, clock)
    capsule = build_capsule(
        session_id=directory.name,
        thread=THREAD,
        call_id="c1",
        tool="restart_service",
        tool_version="1",
        arguments={"service": "api"},
        requester="U0ALICE",
        reason="stuck",
        policy=PolicyRule(),
        now=clock.now(),
    )
    pointer = home.pointer_path(capsule.id)
    synced.clear()
    request = ApprovalRequest.create(home, capsule, clock=clock)
    assert str(directory) in synced  # approvals/ is an entry of the session's directory
    assert str(pointer.parent.parent) in synced  # it holds the pointer's new shard
    synced.clear()
    vote = Vote(approval_id=capsule.id, user="U0BOB", approve=True, at=utc_iso(clock.now()))
    assert request.write_vote(vote)
    assert str(directory / "approvals") in synced  # the votes directory, just made


def test_an_append_the_disk_cut_short_is_finished(
    home: Home, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write may take only part of a record (a disk filling up): the rest is written, or
    the append fails; it never returns with the record torn (the next append would end
    the torn bytes, and the record would be gone)."""
    directory = _session(home, clock)
    files = SessionFiles(directory, clock=clock)
    real_write = os.write
    cut: list[int] = []

    def short_once(fd: int, data: Any) -> int:
        if not cut and os.readlink(f"/proc/self/fd/{fd}").endswith("transcript.jsonl"):
            cut.append(fd)
            return real_write(fd, bytes(data)[: len(data) // 2])
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", short_once)
    files.append_transcript({"role": "user", "text": "restart api"})
    files.append_transcript({"role": "user", "text": "and web"})
    assert cut
    assert [r["text"] for r in files.read_transcript()] == ["restart api", "and web"]


def test_a_message_the_disk_cut_short_is_stored_whole(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message is acked once it is in ``new/``: a short write must not put half of it
    there (it would be acked, then unreadable)."""
    real_write = os.write
    cut: list[int] = []

    def short_once(fd: int, data: Any) -> int:
        if not cut and "/inbox/new/." in os.readlink(f"/proc/self/fd/{fd}"):
            cut.append(fd)
            return real_write(fd, bytes(data)[: len(data) // 2])
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", short_once)
    inbox = ThreadDir(home, THREAD).inbox
    assert inbox.deliver(message("restart api", ts="1700000000.000100"))
    assert cut
    assert [m.text for m in inbox.pending()] == ["restart api"]


def test_the_first_open_approval_and_outbox_entry_have_durable_names(
    home: Home, synced: list[str]
) -> None:
    """An open-approval marker lives in the thread's ``approvals/``, a queued entry in
    ``outbox/pending/``: each made by its first writer. Synced only inside, the directory's
    own name could be lost in a power cut, and with it the marker (a decision nobody
    acts on) or the entry (a reply never sent)."""
    tdir = ThreadDir(home, THREAD)
    tdir.ensure()
    synced.clear()
    assert tdir.open_approval("appr_0123456789abcdef")
    assert str(tdir.path) in synced  # approvals/ is an entry of the thread's directory

    outbox = DirectoryCoordination(home).outbox
    synced.clear()
    entry = OutboxEntry(
        id="reply-x", kind="reply", thread=THREAD, created_at="2026-12-04T00:00:00Z", seq=1
    )
    assert outbox.enqueue(entry)
    assert str(outbox.pending_dir.parent) in synced  # pending/ is an entry of outbox/
