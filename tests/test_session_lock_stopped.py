"""A process stopped while it holds a session's directory lock holds up no command for ever.

A session's state changes (and its seal) are made under its directory's lock, and
``signoff verify`` takes it too for a session that ended with no seal (to tell one being
sealed right now from one whose seal was removed). Both waited for it without end: with
a terminal's command suspended there (Ctrl-Z), ``signoff verify`` never returned, and a
state change never came back. Now each waits a bounded while, then says so in one line:
verify names the session (``BUSY``, exit 1) and checks the others; a state change raises
``LockBusyError`` with nothing written.

Deterministic: a forked process takes the lock and stops itself (SIGSTOP) holding it.
The commands wait 0.5 s for it (SIGNOFF_BUSY_WAIT_S), not 5: they give up all the same.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from helpers_proc import (
    THREAD_TS,
    approvals_dir_of,
    cli,
    describe,
    ok,
    pending_ids,
    say,
    stopped_holding,
)
from test_cli_errors import env_for, signoff

from sessions import (
    FixedClock,
    Home,
    LockBusyError,
    SessionState,
    SessionStore,
    ThreadKey,
    verify,
)
from sessions.busy_wait import BUSY_WAIT

QUICK = "0.5"
THREAD = ThreadKey(team="T0001", channel="C0OPS", thread_ts="1700000000.000100")


def _session(home: Home, clock: FixedClock, *, ended: bool) -> tuple[str, Path]:
    store = SessionStore(home, clock=clock)
    record = store.create(thread=THREAD, parent_id=None, cause="message", session_md="#\n")
    store.transition(record.id, expected=SessionState.CREATED, new=SessionState.RUNNING)
    if ended:
        store.transition(record.id, expected=SessionState.RUNNING, new=SessionState.COMPLETED)
    return record.id, Path(home.session_dir(record.id))


def test_verify_names_a_session_whose_lock_a_stopped_process_holds(
    home: Home, clock: FixedClock
) -> None:
    # Ended on disk, its seal not written yet: the state a stopped terminal leaves it in.
    held, directory = _session(home, clock, ended=True)
    (directory / "MANIFEST.sha256").unlink()
    fine, _ = _session(home, clock, ended=True)
    env = env_for(home.root, SIGNOFF_BUSY_WAIT_S=QUICK)

    with stopped_holding(directory):
        started = time.monotonic()
        done = signoff("verify", env=env, timeout=BUSY_WAIT + 20)
        took = time.monotonic() - started
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert took < BUSY_WAIT + 10, took
    [line] = [x for x in done.stdout.splitlines() if x.startswith(held)]
    assert line.startswith(f"{held}: BUSY: ") and "stopped" in line, line
    assert not any(x.startswith(fine) for x in done.stdout.splitlines())  # checked: ok
    assert done.stdout.strip().endswith("verified 2 session(s), 1 with problems")


async def test_a_state_change_gives_up_on_a_lock_a_stopped_process_holds(
    home: Home, clock: FixedClock
) -> None:
    sid, directory = _session(home, clock, ended=False)
    before = (directory / "session.json").read_bytes()
    store = SessionStore(home, clock=clock, lock_wait=0.5)
    with stopped_holding(directory):
        with pytest.raises(LockBusyError, match="stopped"):
            await asyncio.wait_for(
                asyncio.to_thread(
                    store.transition,
                    sid,
                    expected=SessionState.RUNNING,
                    new=SessionState.COMPLETED,
                ),
                timeout=10,
            )
        # Nothing half-written: not moved, not sealed.
        assert (directory / "session.json").read_bytes() == before
        assert not verify(directory).sealed
    # Once the holder lets go, the same change goes through.
    moved = store.transition(sid, expected=SessionState.RUNNING, new=SessionState.COMPLETED)
    assert moved.state is SessionState.COMPLETED and verify(directory).sealed


def test_audit_flags_a_request_whose_session_lock_a_stopped_process_holds(tmp_path: Path) -> None:
    # The asking session ended with no seal (removed, or a crash before it), its lock held
    # by a stopped process: `signoff audit` ended on "error: ... stayed locked" (exit 2, the
    # status of a file it cannot read) and exported nothing at all. Now that request is
    # flagged, its seal not checked, and every other one exported (exit 1), as `verify`.
    home = tmp_path / "home"
    ok(say(home, "please restart api", ts=THREAD_TS))
    ok(say(home, "please restart api", ts="1700000000.000300", thread_ts="1700000000.000300"))
    held, other = pending_ids(home)
    directory = approvals_dir_of(home, held).parent
    (directory / "MANIFEST.sha256").unlink()

    with stopped_holding(directory):
        done = cli(home, "audit", env={"SIGNOFF_BUSY_WAIT_S": QUICK})
    assert done.returncode == 1, describe(done)
    rows = {r["approval_id"]: r for r in map(json.loads, done.stdout.splitlines())}
    assert set(rows) == {held, other}, done.stdout
    assert rows[other]["seal"] == "ok" and not rows[other]["problems"], rows[other]
    [problem] = rows[held]["problems"]
    assert rows[held]["seal"] == "not sealed", rows[held]
    assert "not checked" in problem and "stopped" in problem, problem
    assert f"1 flagged: {held}" in done.stderr, done.stderr
