"""The chaos test's terminal decisions (``chaos_people``) read the command's exit right:
exit 0, or exit 1 with the command's own refusal as its last line; anything else (an
error, exit 2; an uncaught exception, which exits 1 too) is a failure, never "decided
meanwhile"."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import subprocess
from pathlib import Path

from chaos_people import POLICY, People
from ops_kit import SIGNOFF
from signoff_e2e_kit import clean_env

from localslack import LocalSlack, WorkspaceConfig


def pending_request(env: dict[str, str]) -> str:
    """A request waiting for a decision, asked from a terminal (the demo tools)."""
    asked = [SIGNOFF, "say", "--as", "U0ALICE", "--channel", "C0OPS", "restart api"]
    subprocess.run(asked, env=env, check=True, capture_output=True, timeout=60)
    listed = subprocess.run(
        [SIGNOFF, "pending"], env=env, check=True, capture_output=True, text=True, timeout=60
    )
    return listed.stdout.split()[0]


async def test_a_terminal_command_that_crashes_is_a_failure_not_a_refusal(tmp_path: Path) -> None:
    home, policy = tmp_path / "home", tmp_path / "policy.toml"
    policy.write_text(POLICY)
    env = clean_env(
        SIGNOFF_HOME=str(home), SIGNOFF_POLICY=str(policy), SIGNOFF_MODEL="offline",
        SIGNOFF_DEMO="1",
    )  # fmt: skip
    approval = await asyncio.to_thread(pending_request, env)
    # The index held by another writer for longer than its busy timeout: the decision is
    # recorded, then the command ends with an error (exit 2).
    held = sqlite3.connect(home / "index.sqlite3", isolation_level=None)
    held.execute("BEGIN EXCLUSIVE")
    try:
        async with LocalSlack(WorkspaceConfig()) as slack:
            people = People(slack, home, random.Random(1), env)
            await people._terminal(["approve", approval, "--as", "U0BOB"], None)
    finally:
        held.execute("ROLLBACK")
        held.close()
    assert len(people.terminal_failures) == 1
    assert "exit 2" in people.terminal_failures[0]
