"""Bad input a new operator types, each answered as the README promises: exit 2 and one
line on stderr, never a traceback, never a process that cannot be stopped.

Found by an audit of the CLI against README.md and docs/; every test here failed on the
code it was written against. They run the console script in a subprocess, like
``test_cli_errors.py``, since a traceback or a hang only shows there.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from test_cli_errors import SIGNOFF, env_for, one_error_line, signoff

from localslack import LocalSlack

THREAD = "1700000000.000100"


@pytest.mark.parametrize(
    ("option", "value"),
    [("--channel", "ops"), ("--team", "x"), ("--thread", "abc")],
)
def test_say_with_a_malformed_slack_id_is_one_line(tmp_path: Path, option: str, value: str) -> None:
    args = {"--channel": "C0OPS", "--team": "T0LOCAL", option: value}
    line = one_error_line(
        signoff("say", "--as", "U0ALICE", *[x for kv in args.items() for x in kv], "hi",
                env=env_for(tmp_path / "home", SIGNOFF_DEMO="1"))
    )  # fmt: skip
    assert repr(value) in line


def test_a_policy_file_that_is_not_text_is_one_line(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_bytes(b"\xff\xfe")
    env = env_for(tmp_path / "home", SIGNOFF_POLICY=str(policy), SIGNOFF_DEMO="1")
    assert str(policy) in one_error_line(signoff("recover", env=env, timeout=20))


def test_the_dev_policy_file_that_is_not_text_is_one_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "dev").mkdir(parents=True)
    (home / "dev" / "policy.toml").write_bytes(b"\xff")
    line = one_error_line(signoff("dev", "--port", "0", env=env_for(home), timeout=20))
    assert "policy.toml" in line


@pytest.mark.parametrize(
    "args",
    [["--port", "99999"], ["--port", "-1"], ["--port", "0", "--clock-offset", "99999999999d"]],
)
def test_dev_with_an_impossible_port_or_offset_is_one_line(tmp_path: Path, args: list[str]) -> None:
    one_error_line(signoff("dev", *args, env=env_for(tmp_path / "home"), timeout=20))


def test_dev_on_a_port_that_is_taken_says_so_on_stderr(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        line = one_error_line(
            signoff("dev", "--port", port, env=env_for(tmp_path / "home"), timeout=20)
        )
    assert port in line


@pytest.mark.parametrize(
    "command",
    [
        ["approve", "appr_0000000000000000", "--as", "U0BOB"],
        ["deny", "appr_x", "--as", "U0BOB"],
        ["say", "--as", "U0A", "--channel", "C0OPS", "--thread", THREAD, "--ts", "x", "hi"],
    ],
)
def test_an_engine_command_without_tools_still_says_one_line(
    tmp_path: Path, command: list[str]
) -> None:
    # No SIGNOFF_DEMO, no config: the "no tools are configured" warning came first.
    one_error_line(signoff(*command, env=env_for(tmp_path / "home"), timeout=20))


def test_sessions_with_an_unknown_state_is_a_usage_error(tmp_path: Path) -> None:
    env = env_for(tmp_path / "home", SIGNOFF_DEMO="1")
    assert signoff("say", "--as", "U0ALICE", "--channel", "C0OPS", "hi", env=env).returncode == 0
    done = signoff("sessions", "--state", "awaiting", env=env)
    assert done.returncode == 2, (done.stdout, done.stderr)


@pytest.mark.parametrize(
    ("command", "named"),
    [
        (["approve", "appr_0000000000000000", "--as", "U0BOB", "--hash", "zz"], "--hash"),
        # Fewer than 12 characters is never enough (approvals.seen_refusal): it was
        # refused later as "edited after you saw them".
        (["approve", "appr_0000000000000000", "--as", "U0BOB", "--hash", "0123456"], "--hash"),
        (["sessions", "--limit", "0"], "--limit"),
        (["sessions", "--bogus"], "--bogus"),
        # Before any command: it was "the following arguments are required: command",
        # which says nothing of the option typed.
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["-x", "--verbose"], "unrecognized arguments: -x --verbose"),
        ([], "no command given"),
        (["quarantine", "--day", "2026-02-30"], "--day"),
        (["say", "--as", "bob", "--channel", "C0OPS", "hi"], "--as"),
        # Sent to the model as a message that says nothing (Slack never delivers one).
        (["say", "--as", "U0ALICE", "--channel", "C0OPS", ""], "text: the message is empty"),
        (["say", "--as", "U0ALICE", "--channel", "C0OPS", " \n "], "text: the message is empty"),
    ],
)
def test_usage_errors_are_one_line_naming_the_option(
    tmp_path: Path, command: list[str], named: str
) -> None:
    assert named in one_error_line(signoff(*command, env=env_for(tmp_path / "home")))


def test_a_hash_copied_in_capitals_is_no_usage_error(tmp_path: Path) -> None:
    # The check compares in lower case; only the request's absence is left to say.
    args = ["approve", "appr_0000000000000000", "--as", "U0BOB", "--hash", "0123456789AB"]
    line = one_error_line(signoff(*args, env=env_for(tmp_path / "home", SIGNOFF_DEMO="1")))
    assert "--hash" not in line


def test_a_home_that_holds_only_its_config_is_a_signoff_home(tmp_path: Path) -> None:
    # signoff.toml's default place is the home: before the first `run`, the read-only
    # commands answer there, while a directory with nothing of signoff's is refused.
    home = tmp_path / "home"
    home.mkdir()
    assert "not a signoff home" in one_error_line(signoff("sessions", env=env_for(home)))
    (home / "signoff.toml").write_text("")
    done = signoff("sessions", env=env_for(home))
    assert done.returncode == 0, done.stderr


def _run_env(home: Path, slack: LocalSlack, **tokens: str) -> dict[str, str]:
    return env_for(
        home,
        SLACK_BOT_TOKEN=tokens.get("bot", slack.bot_token),
        SLACK_APP_TOKEN=tokens.get("app", slack.app_token),
        SLACK_API_URL=slack.api_url,
        SIGNOFF_HTTP="off",
        SIGNOFF_LOG_FORMAT="json",
    )


@pytest.mark.parametrize(
    ("token", "said"),
    [
        ("bot", "Slack refused SLACK_BOT_TOKEN (auth.test: invalid_auth)"),
        # The Socket Mode client retries apps.connections.open forever; a token Slack
        # refuses before any hello ends start-up instead.
        ("app", "Slack refused SLACK_APP_TOKEN (apps.connections.open: invalid_auth)"),
    ],
)
async def test_run_with_a_token_slack_rejects_is_one_line(
    tmp_path: Path, slack: LocalSlack, token: str, said: str
) -> None:
    revoked = {token: f"{'xoxb' if token == 'bot' else 'xapp'}-revoked"}
    child = await asyncio.create_subprocess_exec(
        SIGNOFF, "run", env=_run_env(tmp_path / "home", slack, **revoked),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(30):
        _, err = await child.communicate()
    assert child.returncode == 2, err.decode()
    assert "Traceback" not in err.decode()
    # Every line JSON (SIGNOFF_LOG_FORMAT=json), the last one the reason it stopped.
    lines = [json.loads(line) for line in err.decode().strip().splitlines()]
    assert lines[-1]["event"] == "exit_error" and lines[-1]["message"] == said, lines[-1]


async def test_run_stops_on_sigterm_while_slack_will_not_give_it_a_socket(
    tmp_path: Path, slack: LocalSlack
) -> None:
    # A failure that may pass (Slack's own 5xx-like error) is retried, for as long as it
    # lasts; a SIGTERM meanwhile stops the process, though start-up never finished.
    slack.inject_fault(method="apps.connections.open", error="internal_error", count=None)
    child = await asyncio.create_subprocess_exec(
        SIGNOFF, "run", env=_run_env(tmp_path / "home", slack),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert child.stderr is not None
    try:
        async with asyncio.timeout(30):  # start-up has asked Slack for a socket and failed
            while b"apps.connections.open" not in await child.stderr.readline():
                pass
        child.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):  # the drain is 20 s at most
            await child.communicate()
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
            pytest.fail("signoff run ignored SIGTERM while it waited for a socket")
    assert child.returncode == 0


# The child sends itself SIGTERM the moment the command modules start to load, as a
# container stopped right after it started does: before the bot's own handler exists.
_TERM_WHILE_LOADING = """
import importlib.abc, os, signal, sys

class TermOnLoad(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "bot.cli_commands":
            os.kill(os.getpid(), signal.SIGTERM)
        return None

sys.meta_path.insert(0, TermOnLoad())
from bot.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("command", ["run", "dev"])
async def test_sigterm_while_run_still_loads_is_a_clean_stop(
    tmp_path: Path, slack: LocalSlack, command: str
) -> None:
    # Nothing had started, so there is nothing to drain: exit 0 as for any SIGTERM, never
    # the 143 of a process the signal killed, nor a traceback of the import it cut.
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _TERM_WHILE_LOADING, command,
        env=_run_env(tmp_path / "home", slack),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(30):
        _, err = await child.communicate()
    assert child.returncode == 0, err.decode()
    assert "Traceback" not in err.decode()


def _closed_stdout(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``signoff args >&-``: started with no standard output at all (Python's is None)."""
    return subprocess.run(
        [SIGNOFF, *args], env=env, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True, timeout=30, check=False, preexec_fn=lambda: os.close(1),
    )  # fmt: skip


def test_commands_started_without_a_stdout_do_their_work_quietly(tmp_path: Path) -> None:
    # Every command ended on a traceback (sys.stdout.flush() of None), and `audit` wrote
    # to None. Now it is /dev/null, as it would be with >/dev/null.
    env = env_for(tmp_path / "home", SIGNOFF_DEMO="1")
    said = ["say", "--as", "U0ALICE", "--channel", "C0OPS", "restart api"]
    for args in (said, ["audit"], ["audit", "--format", "csv"], ["pending"], ["--version"]):
        done = _closed_stdout(*args, env=env)
        assert done.returncode == 0 and "Traceback" not in done.stderr, (args, done.stderr)
    (approval,) = [p.name for p in (tmp_path / "home").glob("approvals/*/appr_*")]
    done = _closed_stdout("approve", approval, "--as", "U0BOB", env=env)
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    assert signoff("pending", env=env).stdout == "nothing is waiting for a decision\n"
