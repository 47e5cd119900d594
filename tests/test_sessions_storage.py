"""Unit tests for the storage layer: atomic files, ids, the session store, seals,
session files, locks, threads and the work queue."""

from __future__ import annotations

import asyncio
import errno
import fcntl
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from engine_support import THREAD

from sessions import (
    AlreadyExistsError,
    CorruptRecordError,
    FixedClock,
    Home,
    IllegalTransitionError,
    IntentTicket,
    InvalidIdError,
    NotFoundError,
    ResultTicket,
    SessionFiles,
    SessionRecord,
    SessionState,
    SessionStore,
    StaleStateError,
    ThreadDir,
    ThreadKey,
    WorkQueue,
    check_approval_id,
    check_session_id,
    check_slack_id,
    check_slack_ts,
    create_only,
    file_lock,
    file_lock_async,
    iter_thread_keys,
    lineage,
    new_approval_id,
    new_session_id,
    read_jsonl,
    replace_atomically,
    seal,
    try_file_lock,
    verify,
)
from sessions import store as store_module
from sessions.atomic import append_line
from sessions.files import INLINE_LIMIT
from sessions.home import thread_shard
from sessions.threads import thread_shards, thread_values

S = SessionState


def _new_session(
    home: Home, clock: FixedClock, *, parent_id: str | None = None, transcript: bytes = b""
) -> SessionRecord:
    return SessionStore(home, clock=clock).create(
        thread=THREAD,
        parent_id=parent_id,
        cause="message",
        session_md="# Session\n\nsystem prompt\n",
        transcript=transcript,
    )


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# atomic ---------------------------------------------------------------------------------
def test_replace_atomically_writes_new_content_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "record.json"
    replace_atomically(target, b"first")
    replace_atomically(target, b"second")
    assert target.read_bytes() == b"second"
    assert os.listdir(tmp_path) == ["record.json"]


def test_replace_atomically_failure_keeps_old_content_and_removes_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "record.json"
    replace_atomically(target, b"old content")
    calls: list[tuple[Any, Any]] = []

    def failing_replace(src: Any, dst: Any) -> None:
        calls.append((src, dst))
        # The temp file is complete and sits beside the target when rename is attempted.
        assert Path(src).parent == tmp_path
        assert Path(src).read_bytes() == b"new content"
        raise OSError(errno.EIO, "simulated rename failure")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="simulated rename failure"):
        replace_atomically(target, b"new content")
    assert len(calls) == 1
    assert target.read_bytes() == b"old content"
    assert os.listdir(tmp_path) == ["record.json"]


def test_create_only_writes_once_and_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "ticket.json"
    create_only(target, b"winner")
    with pytest.raises(AlreadyExistsError):
        create_only(target, b"loser, and a longer body than the winner")
    assert target.read_bytes() == b"winner"
    assert os.listdir(tmp_path) == ["ticket.json"]


def test_create_only_failed_link_leaves_no_partial_or_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_link(src: Any, dst: Any) -> None:
        raise OSError(errno.EIO, "simulated link failure")

    monkeypatch.setattr(os, "link", failing_link)
    with pytest.raises(OSError, match="simulated link failure"):
        create_only(tmp_path / "ticket.json", b"data")
    assert os.listdir(tmp_path) == []


def test_create_only_write_failure_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(fd: int, data: Any) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", disk_full)
    with pytest.raises(OSError, match="No space left"):
        create_only(tmp_path / "ticket.json", b"data")
    monkeypatch.undo()
    assert os.listdir(tmp_path) == []


def test_create_only_from_eight_threads_has_exactly_one_winner(tmp_path: Path) -> None:
    target = tmp_path / "decision.json"
    barrier = threading.Barrier(8)
    outcomes: dict[int, str] = {}

    def contender(n: int) -> None:
        barrier.wait()
        try:
            create_only(target, f"writer {n}".encode())
            outcomes[n] = "won"
        except AlreadyExistsError:
            outcomes[n] = "lost"

    threads = [threading.Thread(target=contender, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    winners = [n for n, o in outcomes.items() if o == "won"]
    assert len(outcomes) == 8
    assert len(winners) == 1
    assert target.read_bytes() == f"writer {winners[0]}".encode()
    assert os.listdir(tmp_path) == ["decision.json"]


# ids ------------------------------------------------------------------------------------
def test_new_ids_match_their_format_and_do_not_repeat() -> None:
    sessions = [new_session_id() for _ in range(10_000)]
    approvals = [new_approval_id() for _ in range(10_000)]
    assert all(re.fullmatch(r"sess_[0-9a-f]{12}", s) for s in sessions)
    assert all(re.fullmatch(r"appr_[0-9a-f]{16}", a) for a in approvals)
    assert len(set(sessions)) == 10_000
    assert len(set(approvals)) == 10_000
    assert check_session_id(sessions[0]) == sessions[0]
    assert check_approval_id(approvals[0]) == approvals[0]


@pytest.mark.parametrize(
    ("check", "value"),
    [
        (check_session_id, "sess_0123456789ab"),
        (check_approval_id, "appr_0123456789abcdef"),
        (check_slack_id, "T0LOCAL"),
        (check_slack_id, "U0ALICE"),
        (check_slack_id, "C0_OPS"),
        (check_slack_ts, "1700000000.000100"),
    ],
)
def test_check_accepts_well_formed_ids(check: Callable[[object], str], value: str) -> None:
    assert check(value) == value


BAD_SESSION_IDS = [
    "../x",
    "sess_/../../etc",
    "sess_0123456789ab/../../etc",
    "/etc/passwd",
    "/tmp/sess_0123456789ab",
    "sess_0123456789a\x00",
    "sess_0123456789ab\x00",
    "sess_0123456789ab\n",
    "sess_０１２３４５６７８９ab",  # fullwidth digits
    "sess_0123456789aе",  # Cyrillic e
    "sess_0123456789AB",
    "sess_0123456789abc",
    "sess_" + "a" * 500,
    "sess_0123456789a",
    "",
    None,
    12,
    b"sess_0123456789ab",
]


@pytest.mark.parametrize("value", BAD_SESSION_IDS)
def test_check_session_id_rejects_traversal_and_lookalikes(value: object) -> None:
    with pytest.raises(InvalidIdError):
        check_session_id(value)


@pytest.mark.parametrize(
    "value",
    [
        "../appr_0123456789abcdef",
        "appr_/../../etc",
        "/appr_0123456789abcdef",
        "appr_0123456789abcde\x00",
        "appr_0123456789abcdеf",  # Cyrillic e
        "appr_0123456789abcdef0",
        "sess_0123456789abcdef",
        "appr_" + "0" * 200,
    ],
)
def test_check_approval_id_rejects_bad_values(value: object) -> None:
    with pytest.raises(InvalidIdError):
        check_approval_id(value)


@pytest.mark.parametrize(
    "value",
    [
        "../x",
        "T0/../C0",
        "/etc",
        "T0\x00",
        "lower",
        "U0ALİCE",  # Turkish dotted capital I
        "Τ0TEAM",  # Greek capital Tau
        "_T0",
        "T",
        "T" * 41,
        ".",
        "..",
        "",
        None,
    ],
)
def test_check_slack_id_rejects_bad_values(value: object) -> None:
    with pytest.raises(InvalidIdError):
        check_slack_id(value)


@pytest.mark.parametrize(
    "value",
    [
        "../1.1",
        "1700000000",
        "1700000000.",
        ".000100",
        "1700000000.000100/..",
        "1700000000.000100\x00",
        "١٧٠٠٠٠٠٠٠٠.٠٠٠١٠٠",  # Arabic-Indic digits
        "1" * 13 + ".1",
        "1." + "1" * 10,
        "1e9.1",
    ],
)
def test_check_slack_ts_rejects_bad_values(value: object) -> None:
    with pytest.raises(InvalidIdError):
        check_slack_ts(value)


@pytest.mark.parametrize(
    "value", ["../x", "sess_/../../etc", "/etc/passwd", "sess_0123456789a\x00"]
)
def test_home_refuses_bad_ids_before_building_a_path(home: Home, value: str) -> None:
    before = _tree(home.root)
    with pytest.raises(InvalidIdError):
        home.session_dir(value)
    with pytest.raises(InvalidIdError):
        home.capsule_path(value, "appr_0123456789abcdef")
    with pytest.raises(InvalidIdError):
        home.capsule_path("sess_0123456789ab", value)
    assert _tree(home.root) == before


def test_home_layout(home: Home) -> None:
    sharded = home.sessions_dir / "01" / "sess_0123456789ab"
    assert home.session_dir("sess_0123456789ab") == sharded
    assert home.thread_dir(THREAD) == (
        home.threads_dir / "T0LOCAL" / "C0OPS" / "99" / THREAD.thread_ts
    )
    assert home.capsule_path("sess_0123456789ab", "appr_0123456789abcdef") == (
        sharded / "approvals" / "appr_0123456789abcdef.json"
    )
    assert home.pointer_path("appr_0123456789abcdef") == (
        home.root / "approvals" / "01" / "appr_0123456789abcdef"
    )


@pytest.mark.parametrize(
    "parts",
    [
        {"team": "../T0", "channel": "C0OPS", "thread_ts": "1.1"},
        {"team": "t0local", "channel": "C0OPS", "thread_ts": "1.1"},
        {"team": "T0LOCAL", "channel": "C0/../..", "thread_ts": "1.1"},
        {"team": "T0LOCAL", "channel": "..", "thread_ts": "1.1"},
        {"team": "T0LOCAL", "channel": "C0OPS", "thread_ts": "../../1.1"},
        {"team": "T0LOCAL", "channel": "C0OPS", "thread_ts": "now"},
        {"team": "T0LOCAL", "channel": "C0OPS", "thread_ts": "/1.1"},
    ],
)
def test_thread_key_rejects_bad_parts(parts: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="not a valid"):
        ThreadKey(**parts)


# store: creation ------------------------------------------------------------------------
def test_a_session_may_be_created_running(home: Home, clock: FixedClock) -> None:
    """The worker starts every session it creates: one write of session.json, not two,
    and the record still shows both steps."""
    store = SessionStore(home, clock=clock)
    record = store.create(
        thread=THREAD, parent_id=None, cause="message", session_md="hi\n", running=True
    )
    assert record.state == SessionState.RUNNING
    assert [(t.state, t.reason) for t in record.transitions] == [
        (SessionState.CREATED, "message"),
        (SessionState.RUNNING, ""),
    ]
    assert store.load(record.id) == record
    done = store.transition(record.id, expected=SessionState.RUNNING, new=SessionState.COMPLETED)
    assert done.terminal


def test_create_makes_a_complete_session_directory(home: Home, clock: FixedClock) -> None:
    record = _new_session(home, clock, transcript=b'{"role":"user"}\n')
    directory = home.session_dir(record.id)
    for sub in ("approvals", "workspace", "logs", "state.lock"):
        assert not (directory / sub).exists()  # made by their first writer, or gone
    assert (directory / "SESSION.md").read_text() == "# Session\n\nsystem prompt\n"
    assert (directory / "transcript.jsonl").read_bytes() == b'{"role":"user"}\n'
    on_disk = json.loads((directory / "session.json").read_text())
    assert on_disk["schema_version"] == 1
    assert on_disk["id"] == record.id
    assert on_disk["state"] == "created"
    assert on_disk["thread"] == {
        "team": "T0LOCAL",
        "channel": "C0OPS",
        "thread_ts": "1700000000.000100",
    }
    assert record.created_at == "2026-11-02T09:00:00.000Z"
    assert [t.state for t in record.transitions] == [S.CREATED]
    assert not record.terminal
    assert SessionStore(home).load(record.id) == record
    assert [n for n in os.listdir(directory.parent) if n.startswith(".")] == []
    assert not (directory / "MANIFEST.sha256").exists()


def test_create_failure_midway_leaves_no_session_directory(
    home: Home, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = store_module.write_new  # type: ignore[attr-defined]  # store's own import, patched below
    calls = {"n": 0}

    def second_call_fails(path: Path, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.EIO, "simulated failure during creation")
        real(path, data)

    monkeypatch.setattr(store_module, "write_new", second_call_fails)
    with pytest.raises(OSError, match="simulated failure"):
        _new_session(home, clock)
    assert calls["n"] == 2
    assert [os.listdir(d) for d in sorted(home.sessions_dir.iterdir())] == [[], []]  # .staging
    assert SessionStore(home).all_ids() == []


def test_all_ids_lists_sessions_only(home: Home, clock: FixedClock) -> None:
    ids = sorted(_new_session(home, clock).id for _ in range(3))
    (home.sessions_dir / ".new-sess_0123456789ab").mkdir()
    (home.sessions_dir / "notes.txt").write_text("x")
    (home.session_shard(ids[0]) / f".new-{ids[0]}-0123abcd").mkdir()
    (home.session_shard(ids[0]) / "notes.txt").write_text("x")
    assert SessionStore(home).all_ids() == ids


def test_load_missing_and_malformed_ids(home: Home) -> None:
    store = SessionStore(home)
    with pytest.raises(NotFoundError):
        store.load("sess_0123456789ab")
    assert not store.exists("sess_0123456789ab")
    with pytest.raises(InvalidIdError):
        store.load("../sess_0123456789ab")


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"", b'{"schema_version": 1}', b"[]"],
    ids=["bad-json", "empty", "missing-fields", "not-an-object"],
)
def test_corrupt_session_json_raises_corrupt_record(
    home: Home, clock: FixedClock, content: bytes
) -> None:
    record = _new_session(home, clock)
    (home.session_dir(record.id) / "session.json").write_bytes(content)
    store = SessionStore(home)
    with pytest.raises(CorruptRecordError):
        store.load(record.id)
    with pytest.raises(CorruptRecordError):
        store.transition(record.id, expected=S.CREATED, new=S.RUNNING)


def test_session_json_with_unknown_state_is_corrupt(home: Home, clock: FixedClock) -> None:
    record = _new_session(home, clock)
    path = home.session_dir(record.id) / "session.json"
    data = json.loads(path.read_text())
    data["state"] = "resurrected"
    path.write_text(json.dumps(data))
    with pytest.raises(CorruptRecordError):
        SessionStore(home).load(record.id)


# store: the state machine ---------------------------------------------------------------
# Pinned independently of store.ALLOWED: created → running → terminal, plus giving up early;
# a turn a stop cut is interrupted until recovery closes it (failed).
EXPECTED_ALLOWED = {
    (S.CREATED, S.RUNNING),
    (S.CREATED, S.FAILED),
    (S.CREATED, S.CANCELLED),
    (S.RUNNING, S.COMPLETED),
    (S.RUNNING, S.FAILED),
    (S.RUNNING, S.AWAITING_APPROVAL),
    (S.RUNNING, S.CANCELLED),
    (S.RUNNING, S.INTERRUPTED),
    (S.INTERRUPTED, S.FAILED),
}
TERMINAL = {S.COMPLETED, S.FAILED, S.AWAITING_APPROVAL, S.CANCELLED}


def test_allowed_table_matches_the_design() -> None:
    table = {(a, b) for a, targets in store_module.ALLOWED.items() for b in targets}
    assert table == EXPECTED_ALLOWED
    assert set(store_module.ALLOWED) == set(SessionState)
    for state in TERMINAL:
        assert store_module.ALLOWED[state] == frozenset()


def _bring_to(store: SessionStore, session_id: str, state: SessionState) -> None:
    if state == S.CREATED:
        return
    if (S.CREATED, state) in EXPECTED_ALLOWED:
        store.transition(session_id, expected=S.CREATED, new=state)
        return
    store.transition(session_id, expected=S.CREATED, new=S.RUNNING)
    if state != S.RUNNING:
        store.transition(session_id, expected=S.RUNNING, new=state)


@pytest.mark.parametrize(
    ("source", "target"),
    [(a, b) for a in SessionState for b in SessionState],
    ids=lambda s: s.value,
)
def test_transition_follows_the_table_exactly(
    home: Home, clock: FixedClock, source: SessionState, target: SessionState
) -> None:
    store = SessionStore(home, clock=clock)
    record = _new_session(home, clock)
    _bring_to(store, record.id, source)
    assert store.load(record.id).state == source
    path = home.session_dir(record.id) / "session.json"
    before = path.read_bytes()
    before_record = store.load(record.id)
    if (source, target) in EXPECTED_ALLOWED:
        moved = store.transition(record.id, expected=source, new=target, reason="because")
        assert moved.state == target
        assert moved.transitions[:-1] == before_record.transitions
        assert moved.transitions[-1].state == target
        assert moved.transitions[-1].reason == "because"
        assert moved.reason == "because"
        assert store.load(record.id) == moved
        assert moved.terminal == (target in TERMINAL)
    else:
        with pytest.raises(IllegalTransitionError):
            store.transition(record.id, expected=source, new=target)
        assert path.read_bytes() == before


def test_stale_expected_state_raises_and_changes_nothing(home: Home, clock: FixedClock) -> None:
    store = SessionStore(home, clock=clock)
    record = _new_session(home, clock)
    store.transition(record.id, expected=S.CREATED, new=S.RUNNING)
    path = home.session_dir(record.id) / "session.json"
    before = path.read_bytes()
    # A writer that still believes the session is "created".
    with pytest.raises(StaleStateError, match="running"):
        store.transition(record.id, expected=S.CREATED, new=S.FAILED)
    assert path.read_bytes() == before
    store.transition(record.id, expected=S.RUNNING, new=S.COMPLETED)
    with pytest.raises(StaleStateError):
        store.transition(record.id, expected=S.RUNNING, new=S.FAILED)
    assert store.load(record.id).state == S.COMPLETED


def test_transitions_are_timestamped_by_the_clock(home: Home, clock: FixedClock) -> None:
    from datetime import timedelta

    store = SessionStore(home, clock=clock)
    record = _new_session(home, clock)
    clock.advance(timedelta(minutes=5))
    moved = store.transition(record.id, expected=S.CREATED, new=S.RUNNING)
    assert [t.at for t in moved.transitions] == [
        "2026-11-02T09:00:00.000Z",
        "2026-11-02T09:05:00.000Z",
    ]


def test_cas_race_between_processes_has_exactly_one_winner(home: Home, clock: FixedClock) -> None:
    store = SessionStore(home, clock=clock)
    record = _new_session(home, clock)
    store.transition(record.id, expected=S.CREATED, new=S.RUNNING)
    targets = [S.COMPLETED, S.FAILED, S.CANCELLED, S.AWAITING_APPROVAL]
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(len(targets))
    results = ctx.Queue()

    def contender(target: SessionState) -> None:
        barrier.wait(timeout=10)
        try:
            SessionStore(home, clock=clock).transition(record.id, expected=S.RUNNING, new=target)
            results.put(("won", target.value))
        except StaleStateError:
            results.put(("stale", target.value))
        except Exception as exc:  # reported to the parent
            results.put(("error", repr(exc)))

    procs = [ctx.Process(target=contender, args=(t,)) for t in targets]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=20) for _ in procs]
    for p in procs:
        p.join(timeout=10)
        assert p.exitcode == 0
    winners = [target for kind, target in outcomes if kind == "won"]
    assert sorted(kind for kind, _ in outcomes) == ["stale", "stale", "stale", "won"]
    final = store.load(record.id)
    assert final.state.value == winners[0]
    assert [t.state for t in final.transitions] == [S.CREATED, S.RUNNING, final.state]
    assert verify(home.session_dir(record.id)).ok


# store: sealing -------------------------------------------------------------------------
def test_non_terminal_transition_does_not_seal(home: Home, clock: FixedClock) -> None:
    store = SessionStore(home, clock=clock)
    record = _new_session(home, clock)
    store.transition(record.id, expected=S.CREATED, new=S.RUNNING)
    assert not (home.session_dir(record.id) / "MANIFEST.sha256").exists()
    report = verify(home.session_dir(record.id))
    assert report.ok and not report.sealed


def test_terminal_transition_writes_a_sha256sum_manifest(home: Home, clock: FixedClock) -> None:
    store = SessionStore(home, clock=clock)
    record = _new_session(home, clock)
    directory = home.session_dir(record.id)
    store.transition(record.id, expected=S.CREATED, new=S.RUNNING)
    files = SessionFiles(directory, clock=clock)
    files.append_transcript({"role": "user", "text": "hi"})
    files.write_ticket(_intent("x"))
    (directory / "workspace").mkdir()  # as its first writer does
    (directory / "workspace" / "out.txt").write_text("artifact")
    store.transition(record.id, expected=S.RUNNING, new=S.COMPLETED)

    lines = (directory / "MANIFEST.sha256").read_text().splitlines()
    listed = {}
    for line in lines:
        match = re.fullmatch(r"([0-9a-f]{64})  (\S.*)", line)
        assert match, f"not sha256sum format: {line!r}"
        listed[match.group(2)] = match.group(1)
    assert set(listed) == {
        "SESSION.md",
        "session.json",
        "transcript.jsonl",
        "tickets.jsonl",
        "workspace/out.txt",
    }
    for rel, digest in listed.items():
        assert hashlib.sha256((directory / rel).read_bytes()).hexdigest() == digest
    # The sealed session.json is the terminal one.
    assert json.loads((directory / "session.json").read_text())["state"] == "completed"
    assert verify(directory).ok


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="sha256sum not installed")
def test_manifest_is_checked_by_sha256sum(home: Home, clock: FixedClock) -> None:
    store = SessionStore(home, clock=clock)
    record = _new_session(home, clock)
    directory = home.session_dir(record.id)
    store.transition(record.id, expected=S.CREATED, new=S.FAILED, reason="boom")
    ok = subprocess.run(
        ["sha256sum", "-c", "MANIFEST.sha256"],
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "session.json: OK" in ok.stdout
    (directory / "SESSION.md").write_text("edited")
    bad = subprocess.run(
        ["sha256sum", "-c", "MANIFEST.sha256"],
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode != 0
    assert "SESSION.md: FAILED" in bad.stdout


# manifest / verify ----------------------------------------------------------------------
APPROVAL = "appr_00112233445566ff"


def _sealed_with_capsule(home: Home, clock: FixedClock) -> Path:
    """A session parked awaiting approval, with one capsule written before the seal."""
    store = SessionStore(home, clock=clock)
    record = _new_session(home, clock)
    directory = home.session_dir(record.id)
    store.transition(record.id, expected=S.CREATED, new=S.RUNNING)
    (directory / "approvals").mkdir()  # as the first request does
    create_only(directory / "approvals" / f"{APPROVAL}.json", b'{"capsule": true}')
    store.transition(record.id, expected=S.RUNNING, new=S.AWAITING_APPROVAL)
    return directory


def test_verify_unchanged_session_is_ok(home: Home, clock: FixedClock) -> None:
    directory = _sealed_with_capsule(home, clock)
    report = verify(directory)
    assert report.sealed
    assert report.ok
    assert report.problems == []


def test_verify_reports_a_changed_file(home: Home, clock: FixedClock) -> None:
    directory = _sealed_with_capsule(home, clock)
    with (directory / "transcript.jsonl").open("a") as handle:
        handle.write('{"role":"user","text":"forged"}\n')
    report = verify(directory)
    assert not report.ok
    assert report.problems == ["changed: transcript.jsonl"]


def test_verify_reports_a_changed_capsule(home: Home, clock: FixedClock) -> None:
    directory = _sealed_with_capsule(home, clock)
    (directory / "approvals" / f"{APPROVAL}.json").write_bytes(b'{"capsule": false}')
    assert verify(directory).problems == [f"changed: approvals/{APPROVAL}.json"]


def test_verify_reports_a_missing_file(home: Home, clock: FixedClock) -> None:
    directory = _sealed_with_capsule(home, clock)
    (directory / "SESSION.md").unlink()
    assert verify(directory).problems == ["missing: SESSION.md"]


def test_verify_reports_a_file_added_after_the_seal(home: Home, clock: FixedClock) -> None:
    directory = _sealed_with_capsule(home, clock)
    (directory / "workspace").mkdir()
    (directory / "workspace" / "planted.sh").write_text("rm -rf /")
    (directory / "tickets").mkdir()
    (directory / "tickets" / "000009-result.json").write_text("{}")
    assert sorted(verify(directory).problems) == [
        "added after seal: tickets/000009-result.json",
        "added after seal: workspace/planted.sh",
    ]


def test_verify_allows_late_records_beside_a_capsule(home: Home, clock: FixedClock) -> None:
    directory = _sealed_with_capsule(home, clock)
    approvals = directory / "approvals"
    for suffix in ("card", "decision", "claim", "result", "told"):
        create_only(approvals / f"{APPROVAL}.{suffix}.json", b"{}")
    (approvals / f"{APPROVAL}.votes").mkdir()
    create_only(approvals / f"{APPROVAL}.votes" / "U0ALICE.json", b"{}")
    create_only(approvals / f"{APPROVAL}.votes" / "U0BOB.json", b"{}")
    report = verify(directory)
    assert report.ok, report.problems


def test_verify_flags_a_capsule_added_after_the_seal(home: Home, clock: FixedClock) -> None:
    directory = _sealed_with_capsule(home, clock)
    create_only(directory / "approvals" / "appr_ffffffffffffffff.json", b'{"capsule": true}')
    assert verify(directory).problems == ["added after seal: approvals/appr_ffffffffffffffff.json"]


@pytest.mark.parametrize(
    "rel",
    [
        "approvals/payload.sh",
        "approvals/appr_ffffffffffffffff.decision.json",
        "approvals/nested/appr_ffffffffffffffff.json",
    ],
)
def test_verify_flags_stray_files_under_approvals(home: Home, clock: FixedClock, rel: str) -> None:
    directory = _sealed_with_capsule(home, clock)
    path = directory / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("planted")
    assert verify(directory).problems == [f"added after seal: {rel}"]


def test_seal_and_verify_skip_lock_and_temp_files(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "state.lock").write_text("")
    seal(tmp_path)
    manifest = (tmp_path / "MANIFEST.sha256").read_text()
    assert manifest.splitlines() == [f"{hashlib.sha256(b'a').hexdigest()}  a.txt"]
    (tmp_path / "state.lock").write_text("lock bytes change freely")
    (tmp_path / ".tmp-0123").write_text("in-flight temp file")
    assert verify(tmp_path).ok


# files ----------------------------------------------------------------------------------
def _intent(tool: str, call_id: str = "call_1") -> IntentTicket:
    return IntentTicket(
        at="2026-11-02T09:00:00.000Z", call_id=call_id, tool=tool, args_sha256="0" * 64
    )


def test_tickets_are_numbered_and_appended_to_one_file(home: Home, clock: FixedClock) -> None:
    record = _new_session(home, clock)
    directory = home.session_dir(record.id)
    files = SessionFiles(directory, clock=clock)
    intent = _intent("restart")
    result = ResultTicket(
        at="2026-11-02T09:00:01.000Z", call_id="call_1", tool="restart", status="ok", content="done"
    )
    assert files.write_ticket(intent) == "000001-intent"
    first_line = (directory / "tickets.jsonl").read_bytes()
    assert files.write_ticket(result) == "000002-result"
    assert files.read_tickets() == [intent, result]
    on_disk = [json.loads(line) for line in (directory / "tickets.jsonl").read_text().splitlines()]
    assert on_disk[0] == {
        "seq": 1,
        "schema_version": 1,
        "kind": "intent",
        "at": "2026-11-02T09:00:00.000Z",
        "call_id": "call_1",
        "tool": "restart",
        "args_sha256": "0" * 64,
        "approval_id": "",
    }
    assert [(t["seq"], t["kind"]) for t in on_disk] == [(1, "intent"), (2, "result")]
    # Append-only: a later ticket never rewrites an earlier one.
    assert (directory / "tickets.jsonl").read_bytes().startswith(first_line)
    # A reopened SessionFiles continues the numbering.
    assert SessionFiles(directory).write_ticket(_intent("again")) == "000003-intent"
    assert not (directory / "tickets").exists()  # no file per ticket any more


def test_a_second_writer_never_overwrites_a_ticket(home: Home, clock: FixedClock) -> None:
    directory = home.session_dir(_new_session(home, clock).id)
    first = SessionFiles(directory, clock=clock)
    second = SessionFiles(directory, clock=clock)  # same starting sequence number
    assert first.write_ticket(_intent("first")) == "000001-intent"
    assert second.write_ticket(_intent("second")) == "000002-intent"
    assert [t.tool for t in first.read_tickets()] == ["first", "second"]  # type: ignore[union-attr]


def test_a_ticket_of_unknown_shape_is_corrupt(home: Home, clock: FixedClock) -> None:
    directory = home.session_dir(_new_session(home, clock).id)
    (directory / "tickets").mkdir()
    (directory / "tickets" / "000001-note.json").write_text('{"kind": "note"}')
    with pytest.raises(CorruptRecordError):
        SessionFiles(directory).read_tickets()


def test_corrupt_ticket_raises(home: Home, clock: FixedClock) -> None:
    directory = home.session_dir(_new_session(home, clock).id)
    (directory / "tickets").mkdir()
    (directory / "tickets" / "000001-intent.json").write_text("{torn")
    with pytest.raises(CorruptRecordError):
        SessionFiles(directory).read_tickets()


def test_small_trace_events_stay_inline(home: Home, clock: FixedClock) -> None:
    directory = home.session_dir(_new_session(home, clock).id)
    files = SessionFiles(directory, clock=clock)
    files.trace("session_started", {"cause": "message"})
    files.trace("session_ended")
    events = files.read_trace()
    assert [(e.seq, e.kind, e.data) for e in events] == [
        (1, "session_started", {"cause": "message"}),
        (2, "session_ended", {}),
    ]
    assert events[0].session == directory.name
    assert events[0].schema_version == 1
    assert not (directory / "payloads").exists()
    assert files.trace_path == directory / "trace.jsonl"  # no logs/ directory
    # The sequence continues in a reopened SessionFiles.
    SessionFiles(directory, clock=clock).trace("message")
    assert [e.seq for e in files.read_trace()] == [1, 2, 3]


def test_a_payload_left_by_a_crash_before_its_line_is_replaced(
    home: Home, clock: FixedClock
) -> None:
    directory = home.session_dir(_new_session(home, clock).id)
    (directory / "payloads").mkdir()
    (directory / "payloads" / "000001-tool_finished.json").write_bytes(b'{"torn')
    files = SessionFiles(directory, clock=clock)
    big = {"content": "y" * 10_000}
    files.trace("tool_finished", big)
    assert [e.data for e in files.read_trace()] == [big]


def test_a_session_from_before_keeps_its_trace_in_logs(home: Home, clock: FixedClock) -> None:
    directory = home.session_dir(_new_session(home, clock).id)
    (directory / "logs").mkdir()
    legacy = directory / "logs" / "trace.jsonl"
    SessionFiles(directory, clock=clock).trace("session_started", {"cause": "message"})
    os.rename(directory / "trace.jsonl", legacy)  # as an older version wrote it
    files = SessionFiles(directory, clock=clock)
    files.trace("session_ended")
    assert not (directory / "trace.jsonl").exists()
    assert [e.kind for e in files.read_trace()] == ["session_started", "session_ended"]


def test_large_trace_events_go_to_payloads_and_are_never_dropped(
    home: Home, clock: FixedClock
) -> None:
    directory = home.session_dir(_new_session(home, clock).id)
    files = SessionFiles(directory, clock=clock)
    big = {"content": "x" * 10_000, "nested": {"list": list(range(50)), "text": "ünïcødé"}}
    files.trace("tool_finished", big)
    raw = list(read_jsonl(files.trace_path))
    assert len(raw) == 1
    event = raw[0]
    assert "data" not in event
    assert event["payload_ref"] == "payloads/000001-tool_finished.json"
    payload = directory / event["payload_ref"]
    body = payload.read_bytes()
    assert event["payload_sha256"] == hashlib.sha256(body).hexdigest()
    assert event["payload_bytes"] == len(body)
    assert json.loads(body) == big
    assert files.read_trace()[0].data == big
    assert files.read_trace(resolve_payloads=False)[0].data is None


def test_trace_inline_limit_boundary(home: Home, clock: FixedClock) -> None:
    directory = home.session_dir(_new_session(home, clock).id)
    files = SessionFiles(directory, clock=clock)
    overhead = len('{"x":""}')
    files.trace("message", {"x": "a" * (INLINE_LIMIT - overhead)})
    files.trace("message", {"x": "a" * (INLINE_LIMIT - overhead + 1)})
    at_limit, over_limit = files.read_trace(resolve_payloads=False)
    assert at_limit.data is not None and at_limit.payload_ref is None
    assert over_limit.payload_ref is not None and over_limit.payload_bytes == INLINE_LIMIT + 1


def test_trace_limit_counts_bytes_not_characters(home: Home, clock: FixedClock) -> None:
    directory = home.session_dir(_new_session(home, clock).id)
    files = SessionFiles(directory, clock=clock)
    files.trace("tool_finished", {"x": "€" * 3000})  # 3000 characters, 9000 bytes
    (event,) = files.read_trace(resolve_payloads=False)
    assert event.payload_ref is not None


def test_read_jsonl_tolerates_a_torn_final_line(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_bytes(b'{"a":1}\n\n{"b":2}\n{"c":')
    assert list(read_jsonl(path)) == [{"a": 1}, {"b": 2}]
    # A complete last record without its newline is still a record.
    path.write_bytes(b'{"a":1}\n{"c":3}')
    assert list(read_jsonl(path)) == [{"a": 1}, {"c": 3}]
    assert list(read_jsonl(tmp_path / "missing.jsonl")) == []


def test_read_jsonl_raises_on_a_bad_middle_line(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_bytes(b'{"a":1}\n{"b":\n{"c":3}\n')
    with pytest.raises(CorruptRecordError, match=":2:"):
        list(read_jsonl(path))
    # A bad line that *was* newline-terminated is not a torn tail either.
    path.write_bytes(b'{"a":1}\n{"b":\n')
    with pytest.raises(CorruptRecordError):
        list(read_jsonl(path))


def test_transcript_round_trip(home: Home, clock: FixedClock) -> None:
    directory = home.session_dir(_new_session(home, clock).id)
    files = SessionFiles(directory, clock=clock)
    records: list[dict[str, Any]] = [
        {"role": "user", "text": "restart api", "ts": "1700000000.000100"},
        {"role": "assistant", "text": "", "tool_calls": [{"id": "c1", "name": "restart"}]},
        {"role": "tool", "call_id": "c1", "content": "done ✓\nsecond line"},
    ]
    for r in records:
        files.append_transcript(r)
    assert files.read_transcript() == [{"schema_version": 1, **r} for r in records]
    assert SessionFiles(directory).read_transcript() == files.read_transcript()
    # One record per line, whatever the content.
    assert len(files.transcript_path.read_bytes().splitlines()) == 3


def test_append_after_a_torn_line_keeps_the_transcript_readable(
    home: Home, clock: FixedClock
) -> None:
    torn = b'{"role":"user","schema_version":1,"text":"one"}\n{"role":"assis'
    record = _new_session(home, clock, transcript=torn)
    files = SessionFiles(home.session_dir(record.id), clock=clock)
    assert files.read_transcript() == [{"role": "user", "schema_version": 1, "text": "one"}]
    files.append_transcript({"role": "user", "text": "two"})
    assert files.read_transcript() == [
        {"role": "user", "schema_version": 1, "text": "one"},
        {"role": "user", "schema_version": 1, "text": "two"},
    ]


def test_tracing_after_a_torn_event_keeps_the_trace_readable(home: Home, clock: FixedClock) -> None:
    directory = home.session_dir(_new_session(home, clock).id)
    SessionFiles(directory, clock=clock).trace("session_started", {"cause": "message"})
    with (directory / "trace.jsonl").open("ab") as out:
        out.write(b"\x00" * 40 + b"\n")  # a power cut: a page never written back
        out.write(b'{"schema_version":1,"seq":2,"ki')  # torn mid-write
    files = SessionFiles(directory, clock=clock)
    files.trace("session_ended")
    files.trace("message", {"text": "late"})
    assert [e.kind for e in files.read_trace()] == ["session_started", "session_ended", "message"]


# locks ----------------------------------------------------------------------------------
PROBE = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    print("free")
except BlockingIOError:
    print("busy")
"""


def _probe(path: Path) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(path)],
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    )
    return proc.stdout.strip()


def test_file_lock_excludes_another_process(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    with file_lock(path):
        assert _probe(path) == "busy"
    assert _probe(path) == "free"


def test_try_file_lock_is_false_while_held(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    with file_lock(path):
        assert _probe(path) == "busy"
        with try_file_lock(path) as got:
            assert got is False
    with try_file_lock(path) as got:
        assert got is True
        assert _probe(path) == "busy"
        with try_file_lock(path) as again:
            assert again is False
    assert _probe(path) == "free"


async def test_file_lock_async_waits_without_blocking_the_loop(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    holder = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(holder, fcntl.LOCK_EX)
    acquired = asyncio.Event()
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while not acquired.is_set():
            ticks += 1
            await asyncio.sleep(0.002)

    async def waiter() -> int:
        async with file_lock_async(path, poll=0.001):
            acquired.set()
            with try_file_lock(path) as other:
                assert other is False
            return ticks

    ticking = asyncio.create_task(ticker())
    waiting = asyncio.create_task(waiter())
    try:
        await asyncio.sleep(0.15)
        assert not acquired.is_set()
        assert ticks >= 10, "the event loop was blocked while the lock was awaited"
        ticks_before_release = ticks
    finally:
        os.close(holder)  # releases the flock
    ticks_at_acquire = await asyncio.wait_for(waiting, timeout=5)
    await asyncio.wait_for(ticking, timeout=5)
    assert acquired.is_set()
    assert ticks_at_acquire >= ticks_before_release
    with try_file_lock(path) as free:
        assert free is True


# threads and lineage --------------------------------------------------------------------
def test_head_set_and_get(home: Home, clock: FixedClock) -> None:
    tdir = ThreadDir(home, THREAD)
    tdir.ensure()
    assert tdir.head() is None
    record = _new_session(home, clock)
    tdir.set_head(record.id)
    assert tdir.head() == record.id
    assert (tdir.path / "HEAD").read_text() == record.id + "\n"
    with pytest.raises(InvalidIdError):
        tdir.set_head("../../etc")
    assert tdir.head() == record.id
    assert tdir.inbox.new.is_dir()
    assert sorted(os.listdir(tdir.path)) == ["HEAD", "inbox"]  # no lock file: see locks


def test_a_head_a_power_cut_left_behind_reads_as_the_newest_session(
    home: Home, clock: FixedClock
) -> None:
    """``set_head`` does not sync its rename (a directory fsync per turn): a power cut may
    leave HEAD naming an ancestor of the thread's newest session, or no HEAD at all.
    Ids are derived from the parent's and creation is synced, so readers walk forward."""
    tdir = ThreadDir(home, THREAD)
    tdir.ensure()
    store = SessionStore(home, clock=clock)
    ids = [tdir.next_session_id(None)]
    ids.append(tdir.next_session_id(ids[0]))
    ids.append(tdir.next_session_id(ids[1]))
    for parent, session_id in zip([None, *ids], ids, strict=False):
        store.create(
            thread=THREAD, parent_id=parent, cause="message", session_md="", session_id=session_id
        )
    assert tdir.head() == ids[2]  # no HEAD file: its creation was lost too
    tdir.set_head(ids[0])
    assert (tdir.recorded_head(), tdir.head()) == (ids[0], ids[2])
    assert tdir.adopt_head(store) == ids[2]
    assert tdir.recorded_head() == ids[2]


@pytest.mark.parametrize("content", ["garbage\n", "../sess_0123456789ab\n", "", "sess_XYZ"])
def test_corrupt_head_raises(home: Home, content: str) -> None:
    tdir = ThreadDir(home, THREAD)
    tdir.ensure()
    (tdir.path / "HEAD").write_text(content)
    with pytest.raises(CorruptRecordError):
        tdir.head()


def test_lineage_walks_parents_oldest_first(home: Home, clock: FixedClock) -> None:
    a = _new_session(home, clock)
    b = _new_session(home, clock, parent_id=a.id)
    c = _new_session(home, clock, parent_id=b.id)
    other = _new_session(home, clock)
    store = SessionStore(home)
    assert [r.id for r in lineage(store, c.id)] == [a.id, b.id, c.id]
    assert [r.id for r in lineage(store, b.id)] == [a.id, b.id]
    assert [r.id for r in lineage(store, other.id)] == [other.id]


def _set_parent(home: Home, record: SessionRecord, parent: str) -> None:
    forged = record.model_copy(update={"parent_id": parent})
    (home.session_dir(record.id) / "session.json").write_text(forged.model_dump_json())


def test_lineage_loop_raises(home: Home, clock: FixedClock) -> None:
    a = _new_session(home, clock)
    b = _new_session(home, clock, parent_id=a.id)
    c = _new_session(home, clock, parent_id=b.id)
    _set_parent(home, a, c.id)
    with pytest.raises(CorruptRecordError, match="loops"):
        lineage(SessionStore(home), c.id)


def test_lineage_self_loop_raises(home: Home, clock: FixedClock) -> None:
    a = _new_session(home, clock)
    _set_parent(home, a, a.id)
    with pytest.raises(CorruptRecordError, match="loops"):
        lineage(SessionStore(home), a.id)


def test_lineage_with_a_missing_parent_raises_not_found(home: Home, clock: FixedClock) -> None:
    orphan = _new_session(home, clock, parent_id="sess_0123456789ab")
    with pytest.raises(NotFoundError):
        lineage(SessionStore(home), orphan.id)


def test_iter_thread_keys_skips_junk(home: Home) -> None:
    good = [
        ThreadKey(team="T0LOCAL", channel="C0OPS", thread_ts="1700000000.000100"),
        ThreadKey(team="T0LOCAL", channel="C0OPS", thread_ts="1700000001.000200"),
        ThreadKey(team="T1OTHER", channel="C1DEV", thread_ts="1.5"),
    ]
    for key in good:
        ThreadDir(home, key).ensure()
    root = home.threads_dir
    (root / "lowercase" / "C0OPS" / "1.1").mkdir(parents=True)
    (root / "T0LOCAL" / "C0OPS" / "not-a-ts").mkdir()
    (root / "T0LOCAL" / "bad channel" / "1.1").mkdir(parents=True)
    (root / ".hidden" / "C0OPS" / "1.1").mkdir(parents=True)
    (root / "T0LOCAL" / "C0OPS" / ".tmp-1.1").mkdir()
    shard = ThreadDir(home, good[0]).path.parent
    (shard / "not-a-ts").mkdir()  # junk inside a shard
    wrong = "1700000002.000300"  # a valid ts in a shard that is not its own
    assert thread_shard(wrong) != shard.name
    (shard / wrong).mkdir()
    (root / "README").write_text("a file where a team directory would be")
    (root / "T1OTHER" / "NOTES").write_text("a file where a channel directory would be")
    assert list(iter_thread_keys(home)) == good
    # What reindex reads, a shard at a time: the same threads, none of them with a HEAD.
    rows = [row for shard in thread_shards(home) for row in thread_values(home, shard)]
    assert sorted(rows) == sorted((k.team, k.channel, k.thread_ts, None) for k in good)


def test_iter_thread_keys_on_an_empty_home(tmp_path: Path) -> None:
    assert list(iter_thread_keys(Home(tmp_path / "nothing"))) == []


def test_work_queue_round_trip(home: Home) -> None:
    queue = WorkQueue(home)
    assert queue.threads() == []
    other = ThreadKey(team="T1OTHER", channel="C1DEV", thread_ts="1700000002.000001")
    queue.mark(THREAD)
    queue.mark(THREAD)  # idempotent
    queue.mark(other)
    assert queue.threads() == [THREAD, other]
    assert sorted(p.relative_to(queue.root).as_posix() for p in queue.root.glob("*/*")) == sorted(
        [
            f"{thread_shard('1700000000.000100')}/T0LOCAL.C0OPS.1700000000.000100",
            f"{thread_shard('1700000002.000001')}/T1OTHER.C1DEV.1700000002.000001",
        ]
    )
    queue.clear(THREAD)
    queue.clear(THREAD)  # clearing twice is harmless
    assert queue.threads() == [other]
    (queue.root / "junk").write_text("")
    (queue.root / "lower.c.1.1").write_text("")
    (queue.root / "ab").write_text("a file where a shard would be")
    assert queue.threads() == [other]
    queue.clear(other)
    assert queue.threads() == []


def test_lines_since_reads_what_was_appended_whole_and_notices_another_file(
    tmp_path: Path,
) -> None:
    """How the per-thread logs (outbox results, taken messages) are read again: only
    complete lines since the last read; a shorter file is not the one read before."""
    from sessions.jsonl import lines_since

    log = tmp_path / "log.jsonl"
    assert lines_since(log, 0) == (0, [])  # not there yet: empty
    log.write_bytes(b'{"a":1}\n{"b":')  # the second still being written (or torn)
    assert lines_since(log, 0) == (8, [(0, b'{"a":1}')])
    assert lines_since(log, 8) == (8, [])
    with log.open("ab") as out:
        out.write(b'2}\n{"c":3}\n')
    assert lines_since(log, 8) == (24, [(8, b'{"b":2}'), (16, b'{"c":3}')])
    log.write_bytes(b'{"x":0}\n')  # replaced by a shorter file
    assert lines_since(log, 24) is None


_APPEND_PAST_LIMIT = """
import json, resource, signal, sys
from pathlib import Path
from sessions.atomic import append_line
path = Path(sys.argv[1])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead
limit = path.stat().st_size + 10  # room for part of the record, as on a disk that fills
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
try:
    append_line(path, json.dumps({"role": "user", "text": "x" * 200}))
except OSError as exc:
    print(exc.errno)
"""


def test_an_append_the_disk_cut_short_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    # A write that found the disk full half-way left its first bytes behind; the next
    # append ended them with a newline, a torn line *before* a record, which the strict
    # readers (a transcript, tickets) take for corruption: the session became unreadable.
    path = tmp_path / "transcript.jsonl"
    append_line(path, json.dumps({"role": "user", "text": "first"}))
    before = path.read_bytes()
    root = str(Path(__file__).resolve().parents[1])
    done = subprocess.run(
        [sys.executable, "-c", _APPEND_PAST_LIMIT, str(path)],
        capture_output=True, text=True, timeout=30, cwd=root,
        env={**os.environ, "PYTHONPATH": root},
    )  # fmt: skip
    assert done.stdout.strip() == str(errno.EFBIG), done.stderr
    assert path.read_bytes() == before
    append_line(path, json.dumps({"role": "user", "text": "second"}))
    assert [r["text"] for r in read_jsonl(path)] == ["first", "second"]


def test_a_record_that_is_a_device_or_a_fifo_is_refused_before_it_is_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening a device can act on it (a watchdog arms when opened; a tty becomes a
    daemon's terminal), so what is not a regular file is refused on its ``stat``, before
    any open: here ``os.open`` is never reached for them (a FIFO would also have waited)."""
    import errno
    import os

    from sessions import open_regular, read_file

    device, fifo, fine = tmp_path / "device.json", tmp_path / "fifo.json", tmp_path / "ok.json"
    device.symlink_to("/dev/null")
    os.mkfifo(fifo)
    fine.write_bytes(b"{}")
    opened: list[str] = []
    real_open = os.open

    def watched(path: str | os.PathLike[str], *args: int) -> int:
        opened.append(os.fspath(path))
        return real_open(path, *args)

    monkeypatch.setattr(os, "open", watched)
    for path in (device, fifo):
        with pytest.raises(OSError) as refused:
            read_file(path)
        assert refused.value.errno == errno.EINVAL
    assert read_file(fine) == b"{}"
    os.close(open_regular(fine))
    monkeypatch.undo()
    assert opened == [str(fine), str(fine)]
