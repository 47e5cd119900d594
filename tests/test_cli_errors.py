"""Every configuration or usage error ends the ``signoff`` command with one clear line and
exit 2, never a traceback or a hang; a missing home is reported, not created.

These run the console script in a subprocess: a hang (a thread left open) or a traceback
printed at interpreter exit only shows there.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from helpers_proc import Done, fork_server

from sessions import FixedClock, Home, Quarantine

SIGNOFF = str(Path(sys.executable).with_name("signoff"))
READ_ONLY = [["sessions"], ["pending"], ["trace", "sess_0123456789ab"], ["verify"], ["quarantine"]]


def env_for(home: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if "proxy" not in k.lower() and not k.startswith(("SIGNOFF_", "SLACK_"))
    }
    return {**env, "SIGNOFF_HOME": str(home), **extra}


def signoff(
    *args: str, env: dict[str, str], timeout: float = 30
) -> Done | subprocess.CompletedProcess[str]:
    """``signoff <args>`` run to its end in a process of its own, forked from one that has
    imported the commands (helpers_proc's fork server): the suite runs some 200 of these,
    and a new interpreter spends 0.4 s of CPU on imports. With a ``PYTHON*`` variable of
    its own (``PYTHONIOENCODING``: read as an interpreter starts), the console script in a
    new interpreter."""
    if any(k.startswith("PYTHON") and os.environ.get(k) != v for k, v in env.items()):
        return subprocess.run(
            [SIGNOFF, *args], env=env, capture_output=True, text=True, timeout=timeout
        )
    with tempfile.TemporaryDirectory(prefix="signoff-cli-") as logs:
        return fork_server().spawn(args, env, logs=Path(logs)).wait(timeout=timeout)


class SilentServer:
    """A server on loopback that takes connections and never says a word back (until the
    client goes away): a model or a Slack that does not answer. ``called`` is set at the
    first connection."""

    def __init__(self) -> None:
        self.called = asyncio.Event()
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> SilentServer:
        self.server = await asyncio.start_server(self._hold, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def _hold(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.called.set()
        await reader.read()


def one_error_line(done: Done | subprocess.CompletedProcess[str]) -> str:
    """The one line, as text: ``run`` and ``dev`` whose logs are JSON lines (stderr is no
    terminal here) say it as one (test_cli_json_errors.py), the rest as text."""
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    if lines[0].startswith("{"):
        record = json.loads(lines[0])
        assert record["event"] == "exit_error" and record["level"] == "error", record
        return f"signoff: error: {record['message']}"
    assert lines[0].startswith("signoff: error: ")
    return lines[0]


@pytest.mark.parametrize(
    "command",
    [
        ["say", "--as", "U0ALICE", "--channel", "C0OPS", "restart api"],
        ["approve", "appr_0123456789abcdef", "--as", "U0BOB"],
        ["recover"],
        ["run"],
        ["dev", "--port", "0"],
    ],
)
def test_a_policy_naming_an_unknown_tool_exits_2_at_once(
    tmp_path: Path, command: list[str]
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text("[tools.launch_missiles]\nquorum = 2\n")
    env = env_for(
        tmp_path / "home",
        SIGNOFF_POLICY=str(policy),
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_APP_TOKEN="xapp-test",
        SLACK_API_URL="http://127.0.0.1:9/api/",  # never reached: the policy stops start-up
    )
    line = one_error_line(signoff(*command, env=env, timeout=20))
    assert "policy names unknown tools: launch_missiles" in line
    assert str(policy) in line


def test_verify_of_an_unknown_session_says_so(tmp_path: Path) -> None:
    env = env_for(tmp_path / "home")
    assert signoff("say", "--as", "U0ALICE", "--channel", "C0OPS", "hi", env=env).returncode == 0
    line = one_error_line(signoff("verify", "sess_0123456789ab", env=env))
    assert line == "signoff: error: no session sess_0123456789ab"


@pytest.mark.parametrize("command", READ_ONLY)
def test_read_only_commands_on_a_missing_home_say_so_and_create_nothing(
    tmp_path: Path, command: list[str]
) -> None:
    home = tmp_path / "typo" / ".signoff"
    line = one_error_line(signoff(*command, env=env_for(home)))
    assert f"no signoff home at {home}" in line
    assert not (tmp_path / "typo").exists()


@pytest.mark.parametrize("command", ["reindex", "recover"])
def test_reindex_and_recover_on_a_home_that_is_none_create_nothing(
    tmp_path: Path, command: str
) -> None:
    # A mistyped SIGNOFF_HOME got a new home and "rebuilt index: sessions=0" (or a recovery
    # of nothing); SIGNOFF_HOME=$HOME got an index, sessions/ and threads/ written into it.
    home = tmp_path / "typo" / ".signoff"
    line = one_error_line(signoff(command, env=env_for(home, SIGNOFF_DEMO="1")))
    assert f"no signoff home at {home}" in line
    assert not (tmp_path / "typo").exists()
    someones = tmp_path / "someone"
    someones.mkdir()
    (someones / "notes.txt").write_text("mine")
    line = one_error_line(signoff(command, env=env_for(someones, SIGNOFF_DEMO="1")))
    assert f"SIGNOFF_HOME {someones} is not a signoff home" in line
    assert [p.name for p in someones.iterdir()] == ["notes.txt"]


def test_a_home_that_cannot_be_created_or_is_a_file_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    line = one_error_line(signoff("say", "--as", "U0A", "--channel", "C0OPS", "hi",
                                  env=env_for(blocker / "home")))  # fmt: skip
    assert "cannot use SIGNOFF_HOME" in line and str(blocker / "home") in line
    line = one_error_line(signoff("sessions", env=env_for(blocker)))
    assert f"SIGNOFF_HOME {blocker} is not a directory" in line
    # The commands that create a home said "File exists" of it.
    line = one_error_line(signoff("say", "--as", "U0A", "--channel", "C0OPS", "hi",
                                  env=env_for(blocker)))  # fmt: skip
    assert line.endswith(f"SIGNOFF_HOME {blocker}: not a directory")


def test_a_closed_pipe_ends_the_command_quietly(tmp_path: Path) -> None:
    env = env_for(tmp_path / "home")
    for n in range(3):
        ts = f"1700000000.00010{n}"
        said = signoff("say", "--as", "U0ALICE", "--channel", "C0OPS", "--ts", ts, "hi", env=env)
        assert said.returncode == 0, said.stderr
    # Like `signoff sessions | head -0`: the reader is gone before the first write.
    child = subprocess.Popen(
        [SIGNOFF, "sessions"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()
    err = child.stderr.read().decode()
    assert child.wait(timeout=30) == 128 + signal.SIGPIPE
    assert err == ""


@pytest.mark.parametrize("buffered", [True, False])
@pytest.mark.parametrize("args", [["--help"], ["--version"], ["say", "--help"]])
def test_help_that_cannot_be_written_is_an_error_not_a_success(
    tmp_path: Path, args: list[str], buffered: bool
) -> None:
    # To a full disk (/dev/full): every other command said "No space left on device" and
    # exited 2; --help and --version exited 0 with nothing written.
    env = env_for(tmp_path / "home")
    if buffered:
        env.pop("PYTHONUNBUFFERED", None)
    else:
        env["PYTHONUNBUFFERED"] = "1"
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [SIGNOFF, *args], env=env, stdout=full,
            stderr=subprocess.PIPE, text=True, timeout=30, check=False,
        )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == "signoff: error: No space left on device\n"


def test_version_and_a_description_for_every_command(tmp_path: Path) -> None:
    env = env_for(tmp_path / "home")
    version = signoff("--version", env=env)
    assert version.returncode == 0
    assert re.fullmatch(r"signoff \d+\.\d+\.\d+\S*\n", version.stdout)
    listing = signoff("--help", env=env).stdout
    commands = re.search(r"\{([a-z,]+)\}", listing)
    assert commands is not None
    names = commands.group(1).split(",")
    assert {"run", "dev", "quarantine", "verify", "sessions"} <= set(names)
    for name in names:
        line = re.search(rf"^    {name}\s+(\S.*)$", listing, re.MULTILINE)
        assert line is not None, f"{name} has no description in --help"
        own = signoff(name, "--help", env=env)
        assert own.returncode == 0 and line.group(1).strip()[:20] in " ".join(own.stdout.split())


def test_quarantine_lists_and_shows_what_was_kept(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    home.ensure()
    quarantine = Quarantine(home, clock=FixedClock())
    kept = quarantine.put(
        source="events_api",
        reason="event.ts: not a valid Slack timestamp: 'x'",
        payload={"event": {"text": "a\ud800\nb"}},
        event_id="Ev\ud800",
    )
    assert kept is not None
    env = env_for(home.root)
    listing = signoff("quarantine", env=env)
    assert listing.returncode == 0, listing.stderr
    assert kept.id in listing.stdout and "events_api" in listing.stdout
    assert "not a valid Slack timestamp" in listing.stdout
    assert "1 item(s)" in listing.stdout
    shown = signoff("quarantine", kept.id, env=env)
    assert shown.returncode == 0, shown.stderr
    assert '"text": "a\\ud800\\nb"' in shown.stdout
    one_error_line(signoff("quarantine", "quar_0000000000000000", env=env))
    one_error_line(signoff("quarantine", "../../etc/passwd", env=env))
    empty = Home(tmp_path / "empty")
    empty.ensure()
    assert "nothing is quarantined" in signoff("quarantine", env=env_for(empty.root)).stdout
    # One file that is not a record: the others are still listed, and it is named.
    (home.quarantine_dir / kept.at[:10] / f"{kept.at[:10]}T00-quar_{'f' * 16}.json").write_text("{")
    listing = signoff("quarantine", env=env)
    assert listing.returncode == 1 and kept.id in listing.stdout, listing
    assert "not a quarantine record (skipped)" in listing.stderr
    # Only that file: the listing does not say nothing is there.
    (empty.quarantine_dir / "2026-01-01").mkdir(parents=True)
    (empty.quarantine_dir / "2026-01-01" / f"000000-quar_{'e' * 16}.json").write_text("{")
    listing = signoff("quarantine", env=env_for(empty.root))
    assert listing.returncode == 1 and "nothing is quarantined" not in listing.stdout, listing
    assert "0 item(s)" in listing.stdout and "(skipped)" in listing.stderr


def test_an_index_busy_beyond_its_timeout_is_one_line_and_the_decision_stands(
    tmp_path: Path,
) -> None:
    """Another writer holds the index longer than its busy timeout while a decision from a
    terminal is recorded: one line, exit 2, and the decision on disk stands for the bot.
    The busy timeout shortened to 0.5 s (from 5): it is waited out all the same."""
    home = tmp_path / "home"
    env = env_for(home, SIGNOFF_DEMO="1", SIGNOFF_MODEL="offline", SIGNOFF_BUSY_WAIT_S="0.5")
    signoff("say", "--as", "U0ALICE", "--channel", "C0OPS", "restart api", env=env)
    approval = signoff("pending", env=env).stdout.split()[0]
    held = sqlite3.connect(home / "index.sqlite3", isolation_level=None)
    held.execute("BEGIN EXCLUSIVE")
    try:
        done = signoff("approve", approval, "--as", "U0BOB", env=env)
    finally:
        held.execute("ROLLBACK")
        held.close()
    line = one_error_line(done)
    assert "the index could not be used: database is locked" in line
    assert (
        "already decided: approved by U0BOB"
        in signoff("approve", approval, "--as", "U0CAROL", env=env).stdout
    )
