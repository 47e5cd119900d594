"""``signoff say`` / ``approve`` whose follow-up turn fails in that process (the index
held by another writer past its busy timeout): what was asked is recorded, and the
terminal says so, says why the answer did not come, and what carries it on, with exit 3.
It said nothing of it and exited 0 (with a log line "retrying in 0.2s", though the
process then ended and nothing retried).

Each waits out the index's busy timeout once, shortened to 0.5 s (SIGNOFF_BUSY_WAIT_S; 5 s
in production): the failure is real, not simulated.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path

from test_cli_errors import SIGNOFF, env_for, signoff

from sessions import Home, ThreadKey, coordination_for

THREAD = "1700000000.000100"


def _held_index(home: Path) -> sqlite3.Connection:
    """Another writer holding the index (a bot's long commit, a backup tool)."""
    conn = sqlite3.connect(Home(home).index_path, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    return conn


def _said_it_is_carried_on(stderr: str, recorded: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert recorded in lines[0] and "database is locked" in lines[0], lines[0]
    assert "signoff recover" in lines[0] and "retrying" not in stderr


def test_say_whose_turn_fails_says_the_message_is_stored_and_exits_3(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = env_for(home, SIGNOFF_DEMO="1", SIGNOFF_BUSY_WAIT_S="0.5")  # tools: no warning on stderr
    first = signoff("say", "--as", "U0ALICE", "--channel", "C0OPS", "--thread", THREAD,
                    "--ts", THREAD, "hi", env=env)  # fmt: skip
    assert first.returncode == 0, first.stderr
    held = _held_index(home)
    try:
        done = signoff("say", "--as", "U0ALICE", "--channel", "C0OPS", "--thread", THREAD,
                       "--ts", "1700000000.000200", "again", env=env)  # fmt: skip
    finally:
        held.close()
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert f"thread T0LOCAL/C0OPS/{THREAD}" in done.stdout
    _said_it_is_carried_on(done.stderr, "message is stored")
    # Not lost: recovery answers it.
    recovered = signoff("recover", env=env)
    assert recovered.returncode == 0, recovered.stderr
    assert "signoff ›" in recovered.stdout


async def test_approve_whose_turn_fails_says_the_decision_is_recorded_and_exits_3(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    env = env_for(home, SIGNOFF_DEMO="1", SIGNOFF_BUSY_WAIT_S="0.5")
    asked = signoff("say", "--as", "U0ALICE", "--channel", "C0OPS", "--thread", THREAD,
                    "--ts", THREAD, "restart api", env=env)  # fmt: skip
    (approval,) = re.findall(r"appr_[0-9a-f]{16}", asked.stdout)
    thread = ThreadKey(team="T0LOCAL", channel="C0OPS", thread_ts=THREAD)
    # A bot's turn in the thread: the decision is recorded and said, then the command
    # waits for the thread; the index is taken by another writer before it gets it.
    async with coordination_for(Home(home)).thread_locks.hold(thread):
        child = await asyncio.create_subprocess_exec(
            SIGNOFF, "approve", approval, "--as", "U0BOB", env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert child.stdout is not None and child.stderr is not None
        async with asyncio.timeout(20):
            said = (await child.stdout.readline()).decode()
        assert said.strip() == "approved by U0BOB", said
        held = _held_index(home)
    try:
        async with asyncio.timeout(30):
            out, err = await child.communicate()
    finally:
        held.close()
    assert child.returncode == 3, (out, err)
    _said_it_is_carried_on(err.decode(), "decision is recorded")
    recovered = signoff("recover", env=env)
    assert recovered.returncode == 0, recovered.stderr
    assert "restart_service` finished" in recovered.stdout
