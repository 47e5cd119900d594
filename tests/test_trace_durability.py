"""The trace after a power cut: its lines and payloads are written without a sync each and
made durable by the seal, so a reader meets what an unsynced write leaves, and a sealed
session must keep every name its manifest lists."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from engine_support import THREAD

from sessions import FixedClock, Home, SessionFiles, SessionStore, seal

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


def test_the_seal_makes_the_names_of_unsynced_payloads_durable(
    home: Home, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = _session(home, clock)
    SessionFiles(directory, clock=clock).trace("tool_finished", BIG)  # payloads/ made here
    synced: list[str] = []
    real_fsync = os.fsync

    def recording(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording)
    seal(directory)
    # The payload's bytes are flushed; its name lives in payloads/, which must be too, or
    # a power cut after the seal leaves the manifest naming a file that is not there
    # ("missing": tampering, and an approved call from this session is refused).
    assert str(directory / "payloads" / "000001-tool_finished.json") in synced
    assert str(directory / "payloads") in synced
