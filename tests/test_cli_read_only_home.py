"""The read-only commands on a home they cannot write (a snapshot mounted read-only, an
operator without write access): they read it. ``pending`` and ``sessions`` failed with
"Read-only file system: index.lock", since opening the index opened its lock for writing
(and would have created directories and migrated a layout).

A real read-only filesystem: a small tmpfs, remounted read-only once the home is written.
"""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_cli_errors import env_for, one_error_line, signoff

from sessions import Home


class Mount:
    def __init__(self, where: Path) -> None:
        self.where = where

    def read_only(self) -> None:
        subprocess.run(["mount", "-o", "remount,ro", str(self.where)], check=True)


@pytest.fixture
def mount(tmp_path: Path) -> Iterator[Mount]:
    where = tmp_path / f"ro-{uuid.uuid4().hex[:8]}"
    where.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(where)],
        capture_output=True, check=False,
    )  # fmt: skip
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {made.stderr.decode().strip()}")
    try:
        yield Mount(where)
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _a_home(root: Path) -> tuple[dict[str, str], str, str]:
    env = env_for(root / "home", SIGNOFF_DEMO="1")
    asked = signoff("say", "--as", "U0ALICE", "--channel", "C0OPS", "restart api", env=env)
    assert asked.returncode == 0, asked.stderr
    (approval,) = set(re.findall(r"appr_[0-9a-f]{16}", asked.stdout))
    sessions = signoff("sessions", env=env)
    (session,) = set(re.findall(r"sess_[0-9a-f]{12}", sessions.stdout))
    return env, approval, session


def reads_the_home(env: dict[str, str], approval: str, session: str) -> None:
    """Each read-only command shows what the home holds, ending 0."""
    expected = {
        ("pending",): approval,
        ("sessions",): session,
        ("trace", session): approval,
        ("show", session): "restart_service",
        ("audit",): approval,
        ("verify",): "verified 1 session(s), 0 with problems",
    }
    for command, shown in expected.items():
        done = signoff(*command, env=env)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        assert shown in done.stdout, (command, done.stdout)
        assert "error" not in done.stderr, (command, done.stderr)  # audit counts there


def test_read_only_commands_read_a_home_they_cannot_write(mount: Mount) -> None:
    env, approval, session = _a_home(mount.where)
    mount.read_only()
    reads_the_home(env, approval, session)


def test_a_read_only_home_without_its_index_is_one_clear_line(mount: Mount) -> None:
    env, _, _ = _a_home(mount.where)
    Home(mount.where / "home").index_path.unlink()
    mount.read_only()
    line = one_error_line(signoff("sessions", env=env))
    assert "is read-only and has no readable index" in line, line


def test_commands_that_write_on_a_read_only_home_say_so_in_one_line(mount: Mount) -> None:
    # They said "the index could not be used: unable to open database file; what is
    # recorded on disk stands (… `signoff reindex` rebuilds the index …)": the index was
    # fine, nothing was recorded, and reindex could not help.
    env, approval, _ = _a_home(mount.where)
    mount.read_only()
    for command in (
        ("say", "--as", "U0ALICE", "--channel", "C0OPS", "hello"),
        ("approve", approval, "--as", "U0BOB"),
        ("deny", approval, "--as", "U0BOB", "--reason", "no"),
        ("recover",),
        ("recover", "--apply-policy"),
        ("reindex",),
    ):
        line = one_error_line(signoff(*command, env=env))
        assert "read-only file system" in line, (command, line)
        assert "index could not be used" not in line and "reindex` rebuilds" not in line, line
