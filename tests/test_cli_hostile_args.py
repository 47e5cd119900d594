"""Command-line arguments a careless or hostile user gives ``signoff``, each answered as
the README promises: exit 2 and one line on stderr, never a traceback, never a process
that hangs (``test_cli_hostile_config`` has the configuration's share).

Found by a review of the command-line entry points; every test here failed on the code it
was written against. They run the console script in a subprocess (``test_cli_errors``).
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable
from pathlib import Path

import pytest
from test_cli_errors import SIGNOFF, SilentServer, env_for, one_error_line, signoff

from approvals import parse_duration


@pytest.mark.parametrize(
    "args",
    [
        ["say", "--as", "U0ALICE", "--channel", "C0OPS", "\udcff"],
        ["approve", "appr_0123456789abcdef", "--as", "U0BOB", "--reason", "ok\udcfe"],
        ["show", "\udcff"],
    ],
)
def test_an_argument_that_is_not_utf8_is_a_usage_error(tmp_path: Path, args: list[str]) -> None:
    # The byte 0xff reaches Python as a lone surrogate: `say` ended in a
    # UnicodeEncodeError traceback when the message was written down.
    env = env_for(tmp_path / "home", SIGNOFF_DEMO="1")
    assert "UTF-8" in one_error_line(signoff(*args, env=env))


@pytest.mark.parametrize("host", ["", " ", "local host"])
def test_dev_with_an_empty_or_spaced_host_is_a_usage_error(tmp_path: Path, host: str) -> None:
    # "" bound every interface, each on a port of its own (with --port 0), and the bot
    # then called 127.0.0.1 on the IPv6 socket's port: "could not reach Slack".
    done = signoff("dev", "--host", host, "--port", "0", env=env_for(tmp_path / "home"))
    assert "--host" in one_error_line(done)
    assert not (tmp_path / "home").exists()


@pytest.mark.parametrize(
    "args",
    [
        # Arabic-Indic and full-width digits were read as 5 (\d and int() take them).
        ["audit", "--since", "\u0665d"],
        ["audit", "--since", "\uff15h"],
        ["dev", "--port", "0", "--clock-offset", "\u0662d"],
    ],
)
def test_a_duration_in_other_digits_is_one_line(tmp_path: Path, args: list[str]) -> None:
    home = tmp_path / "home"
    (home / "sessions").mkdir(parents=True)
    assert repr(args[-1]) in one_error_line(signoff(*args, env=env_for(home), timeout=20))


def test_a_policy_duration_in_other_digits_is_refused() -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("\u0662\u0664h")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        # argparse takes "-5d" for an option, and said "--since: expected one argument".
        (["audit", "--since", "-5d"], "--since: not a duration or a day: '-5d'"),
        # A leading "-" goes back in time (bot.dev.parse_offset): it never got there.
        (["dev", "--port", "0", "--clock-offset", "-99999d"], "--clock-offset: '-99999d'"),
        # A reason may start with a dash; the decision is then refused for what it is.
        (["deny", "appr_0123456789abcdef", "--as", "U0BOB", "--reason", "-nope"], "no"),
    ],
)
def test_an_option_value_may_start_with_a_dash(tmp_path: Path, args: list[str], said: str) -> None:
    home = tmp_path / "home"
    (home / "sessions").mkdir(parents=True)
    line = one_error_line(signoff(*args, env=env_for(home, SIGNOFF_DEMO="1"), timeout=20))
    assert said in line and "expected one argument" not in line


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # as at a terminal, whatever runs the tests


async def _ctrl_c(
    args: list[str], env: dict[str, str], ready: Awaitable[object] | None
) -> tuple[int, str]:
    """``signoff args`` interrupted once ``ready`` is done (None: once it prints "held"):
    its exit status and stderr."""
    # faulthandler: a child still running long after its Ctrl-C is sent SIGABRT, and says
    # where each of its threads was (seen once in CI, never again here).
    env = {**env, "PYTHONFAULTHANDLER": "1"}
    child = await asyncio.create_subprocess_exec(
        SIGNOFF, *args, env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, preexec_fn=_default_sigint,
    )  # fmt: skip
    assert child.stdout is not None
    try:
        async with asyncio.timeout(30):
            if ready is None:
                assert await child.stdout.readline() == b"held\n"
            else:
                await ready
        child.send_signal(signal.SIGINT)
        try:
            async with asyncio.timeout(30):
                _, err = await child.communicate()
        except TimeoutError:
            child.send_signal(signal.SIGABRT)
            _, err = await child.communicate()
            raise AssertionError(f"running 30 s after its Ctrl-C:\n{err.decode()}") from None
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    assert child.returncode is not None
    return child.returncode, err.decode()


async def test_ctrl_c_while_a_command_waits_on_the_model_ends_it_quietly(tmp_path: Path) -> None:
    # asyncio.run cancels the command (which closes what it opened), then raises
    # KeyboardInterrupt: that was a traceback of a dozen lines.
    async with SilentServer() as model:
        env = env_for(
            tmp_path / "home",
            SIGNOFF_DEMO="1",
            SIGNOFF_MODEL="openai-compatible:m",
            OPENAI_BASE_URL=f"http://127.0.0.1:{model.port}/v1",
        )
        code, err = await _ctrl_c(
            ["say", "--as", "U0ALICE", "--channel", "C0OPS", "hi"], env, model.called.wait()
        )
    assert code == 128 + signal.SIGINT, err
    assert "Traceback" not in err


# Loaded by the interpreter at start-up (``sitecustomize`` on PYTHONPATH): holds the first
# import of the ``sessions`` package, which ``signoff`` needs for every command, until the
# test has sent its Ctrl-C.
_HOLD_IMPORT = """
import importlib.abc, sys, time

class _Hold(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "sessions":
            sys.meta_path.remove(self)
            print("held", flush=True)
            time.sleep(60)
        return None

sys.meta_path.insert(0, _Hold())
"""


async def test_ctrl_c_while_signoff_is_still_importing_ends_it_quietly(tmp_path: Path) -> None:
    # A Ctrl-C in the first half second (the imports) was a traceback of thirty lines: the
    # console script imports bot.cli, and main's handler did not exist yet.
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(_HOLD_IMPORT)
    path = os.pathsep.join([str(hook), os.environ.get("PYTHONPATH", "")])
    env = env_for(tmp_path / "home", PYTHONPATH=path)
    code, err = await _ctrl_c(["sessions"], env, None)
    assert code == 128 + signal.SIGINT, err
    assert err == ""


@pytest.mark.parametrize("kind", ["deep", "fifo", "directory", "list", "groups", "messages"])
def test_dev_with_a_chat_state_it_cannot_read_is_one_line(tmp_path: Path, kind: str) -> None:
    # The chat's state file was read whole, blocking, and parsed without a stack limit:
    # a FIFO hung `signoff dev` past any SIGTERM, deep brackets were a RecursionError, and
    # a directory was reported as "cannot listen on 127.0.0.1:0: Is a directory". JSON
    # that is no object, or whose parts are of the wrong kind, was an AttributeError
    # traceback (exit 1).
    state = tmp_path / "home" / "dev" / "localslack-state.json"
    state.parent.mkdir(parents=True)
    ours = '{"schema": "localslack-state/1", "team_id": "T0LOCAL", '
    if kind == "deep":
        state.write_text("[" * 100_000 + "]" * 100_000)
    elif kind == "list":
        state.write_text("[]")
    elif kind == "groups":
        state.write_text(ours + '"groups": ["S0APPROVERS"]}')
    elif kind == "messages":
        state.write_text(ours + '"messages": ["C0OPS"]}')
    elif kind == "fifo":
        os.mkfifo(state)
    else:
        state.mkdir()
    line = one_error_line(signoff("dev", "--port", "0", env=env_for(tmp_path / "home")))
    assert "cannot restore the workspace" in line and str(state) in line


def test_an_unrecognized_argument_with_a_line_break_is_one_line(tmp_path: Path) -> None:
    line = one_error_line(signoff("sessions", "a\nb", env=env_for(tmp_path / "home")))
    assert "a\\nb" in line


@pytest.mark.parametrize("kind", ["used", "file"])
def test_demo_in_a_directory_that_is_not_fresh_is_one_line(tmp_path: Path, kind: str) -> None:
    # A second `signoff demo --home DIR` found the first one's world (no card this time)
    # and ended in an IndexError traceback, then hung on the engine it left open.
    where = tmp_path / "demo"
    if kind == "used":
        (where / "sessions").mkdir(parents=True)
    else:
        where.write_text("")
    line = one_error_line(signoff("demo", "--home", str(where), env=env_for(tmp_path / "h")))
    assert str(where) in line and "--home" in line
