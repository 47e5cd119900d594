"""``signoff verify`` notices what a seal cannot: a session removed whole that a child's
transcript continues, and a ``sessions`` that is no longer a directory. Each said before
was "verified N session(s), 0 with problems" and exit 0."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from test_cli_errors import env_for, signoff

from sessions import Home, SessionStore

THREAD = "1700000000.000100"


def _two_turns(home: Path) -> dict[str, str]:
    env = env_for(home)
    for n, text in enumerate(("hi", "again")):
        ts = f"1700000000.00010{n}"
        said = signoff("say", "--as", "U0ALICE", "--channel", "C0OPS", "--thread", THREAD,
                       "--ts", ts, text, env=env)  # fmt: skip
        assert said.returncode == 0, said.stderr
    return env


def _child_and_parent(home: Path) -> tuple[str, str]:
    store = SessionStore(Home(home))
    for sid in store.all_ids():
        transcript = Home(home).session_dir(sid) / "transcript.jsonl"
        first = json.loads(transcript.read_bytes().partition(b"\n")[0])
        if "continues" in first:
            return sid, str(first["continues"]["session"])
    raise AssertionError("no child session continues a parent")


def test_verify_reports_a_removed_session_a_child_continues(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = _two_turns(home)
    child, parent = _child_and_parent(home)
    shutil.rmtree(Home(home).session_dir(parent))
    done = signoff("verify", env=env)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert f"{child}: MISSING: its transcript continues {parent}" in done.stdout
    assert done.stdout.strip().endswith("1 with problems")
    one = signoff("verify", child, env=env)  # the child alone says it too
    assert one.returncode == 1 and f"continues {parent}" in one.stdout


def test_verify_of_a_home_whose_sessions_is_a_file_fails(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = _two_turns(home)
    sessions = Home(home).sessions_dir
    shutil.rmtree(sessions)
    sessions.write_text("")
    done = signoff("verify", env=env)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert f"MISSING: {sessions} is not a directory" in done.stdout
    sessions.unlink()  # gone altogether, while the threads remain
    done = signoff("verify", env=env)
    assert done.returncode == 1 and f"{sessions} is missing" in done.stdout
