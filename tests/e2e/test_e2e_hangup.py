"""SIGHUP, the signal a closed terminal or SSH session sends ``signoff run`` (and a
``kill -HUP``): it stops the bot as SIGTERM does, draining, never killing it where it
stands; and one that comes after SIGTERM (systemd's ``SendSIGHUP=yes`` sends it right
after) does not cut the drain short. Started with it ignored (``nohup``), the bot
outlives its terminal, as asked.

The process is the real ``signoff run``; its model the real OpenAI adapter against a local
server that scripts one call to a slow tool; Slack is LocalSlack.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import pty
import signal
import subprocess
import sys
import termios
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from loopback_ports import free_port
from ops_kit import API_KEY, SIGNOFF, Call, FakeOpenAI, RunProcess, slow_tool_bot, write_slow_tool
from signoff_e2e_kit import bot_reply, clean_env, mention, session_states, until

from bot.config import Settings
from localslack import LocalSlack


@pytest.fixture(autouse=True)
def hangups_reach_the_children() -> Iterator[None]:
    """The bots these tests start get SIGHUP at its default action, as a terminal's shell
    starts them, also where the tests run with it ignored (``nohup pytest``, a CI runner):
    an ignored signal stays ignored in a child, a handled one is reset to the default. The
    test process itself still lives through a hangup meanwhile."""
    before = signal.signal(signal.SIGHUP, lambda signum, frame: None)
    try:
        yield
    finally:
        signal.signal(signal.SIGHUP, before)


@pytest.fixture
async def model() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as api:
        api.reply(tool_calls=[Call("slow_check", {"seconds": 1.5})])
        api.reply("The slow check says all good.")
        yield api


@pytest.mark.parametrize(
    "signals",
    [(signal.SIGHUP,), (signal.SIGTERM, signal.SIGHUP)],
    ids=["hangup", "hangup-after-sigterm"],
)
async def test_a_hangup_drains_the_running_turn_and_exits_0(
    slack: LocalSlack,
    settings: Settings,
    model: FakeOpenAI,
    tmp_path: Path,
    signals: tuple[signal.Signals, ...],
) -> None:
    home = settings.home
    run = slow_tool_bot(slack, home, model, tmp_path, module="slow_tools_hup", drain_s="10")
    try:
        await run.connected(slack)
        thread = await mention(slack, "run the slow check")
        await until(lambda: (home / "slow-started").exists(), what="the slow tool to start")
        for sig in signals:
            os.kill(run.proc.pid, sig)
        assert await run.exit_code(timeout=15) == 0, run.stderr()
    finally:
        run.kill()
    assert (home / "slow-finished").exists(), "the hangup cut the running tool call"
    await bot_reply(slack, thread, "all good")
    assert list(session_states(home).values()) == ["completed"]
    events = [line["event"] for line in run.log_lines()]
    assert "stopping" in events and events[-1] == "stopped"
    assert "drain_cut_short" not in events


@contextlib.contextmanager
def hangup_ignored() -> Iterator[None]:
    """Children started inside inherit SIGHUP ignored, as ``nohup`` starts a command."""
    before = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGHUP, before)


async def test_a_bot_started_with_hangups_ignored_outlives_one(
    slack: LocalSlack, settings: Settings, tmp_path: Path
) -> None:
    with hangup_ignored():
        run = RunProcess(slack, settings.home, tmp_path / "logs", http_port=free_port())
    try:
        await run.connected(slack)
        os.kill(run.proc.pid, signal.SIGHUP)
        thread = await mention(slack, "status of api")
        await bot_reply(slack, thread, "service=api,")
        async with aiohttp.ClientSession() as http, http.get(run.url + "/readyz") as response:
            assert response.status == 200
        assert run.proc.poll() is None
        run.terminate()
        assert await run.exit_code(timeout=15) == 0, run.stderr()
    finally:
        run.kill()
    events = [line["event"] for line in run.log_lines()]
    assert events.count("stopping") == 1 and events[-1] == "stopped"


def _controlling_terminal() -> None:
    """In the child, after its setsid: the pty on its stdin becomes its terminal."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _run_in_a_terminal(env: dict[str, str], *args: str) -> tuple[subprocess.Popen[bytes], int]:
    """``signoff run`` (or ``args``) with a new pty as its terminal: (the process, the
    pty's master)."""
    master, child = pty.openpty()
    proc = subprocess.Popen(
        [SIGNOFF, *(args or ("run",))],
        env=env,
        stdin=child,
        stdout=child,
        stderr=child,
        start_new_session=True,
        preexec_fn=_controlling_terminal,
    )
    os.close(child)
    return proc, master


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)


async def test_the_terminal_it_runs_in_closing_drains_the_running_turn(
    slack: LocalSlack, settings: Settings, model: FakeOpenAI, tmp_path: Path
) -> None:
    """The real hangup: the terminal goes (its pty's master closed), the kernel sends
    SIGHUP, and every write to the terminal fails from then on (EIO)."""
    home = settings.home
    tools = tmp_path / "tools"
    env = clean_env(
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_APP_TOKEN=slack.app_token,
        SLACK_API_URL=slack.api_url,
        SIGNOFF_HOME=str(home),
        OPENAI_API_KEY=API_KEY,
        SIGNOFF_MODEL="openai-compatible:fake",
        OPENAI_BASE_URL=model.base_url,
        SIGNOFF_TOOLS=write_slow_tool(tools, "slow_tools_pty"),
        SIGNOFF_DRAIN_S="10",
        PYTHONPATH=str(tools),
    )
    proc, master = _run_in_a_terminal(env)
    shown = bytearray()
    loop = asyncio.get_running_loop()

    def read_terminal() -> None:  # kept drained: the bot never blocks writing to it
        try:
            shown.extend(os.read(master, 65536))
        except OSError:  # EIO: the bot is gone
            loop.remove_reader(master)

    os.set_blocking(master, False)
    loop.add_reader(master, read_terminal)
    try:
        await slack.wait_for_sockets(1, timeout=30)
        thread = await mention(slack, "run the slow check")
        await until(lambda: (home / "slow-started").exists(), what="the slow tool to start")
        loop.remove_reader(master)
        os.close(master)  # the terminal window closed
        master = -1
        await until(lambda: proc.poll() is not None, what="signoff run to exit", timeout=15)
        assert proc.returncode == 0, shown.decode(errors="replace")
    finally:
        if master >= 0:
            loop.remove_reader(master)
            os.close(master)
        _kill(proc)
    assert (home / "slow-finished").exists(), "the hangup cut the running tool call"
    await bot_reply(slack, thread, "all good")
    assert list(session_states(home).values()) == ["completed"]


async def test_signoff_dev_in_a_terminal_that_closes_stops_with_0(tmp_path: Path) -> None:
    """``signoff dev`` says on its terminal that it stops and that it stopped: written to a
    terminal that is gone (EIO), the stop ended on that error, exit 1 and a traceback."""
    env = clean_env(SIGNOFF_HOME=str(tmp_path / "home"))
    proc, master = _run_in_a_terminal(env, "dev", "--port", "0")
    shown = bytearray()
    loop = asyncio.get_running_loop()

    def read_terminal() -> None:
        try:
            shown.extend(os.read(master, 65536))
        except OSError:  # EIO: it is gone
            loop.remove_reader(master)

    os.set_blocking(master, False)
    loop.add_reader(master, read_terminal)
    try:
        await until(lambda: b"(Ctrl-C stops)" in shown, what="signoff dev to serve", timeout=30)
        loop.remove_reader(master)
        os.close(master)  # the terminal window closed
        master = -1
        await until(lambda: proc.poll() is not None, what="signoff dev to exit", timeout=15)
        assert proc.returncode == 0
    finally:
        if master >= 0:
            loop.remove_reader(master)
            os.close(master)
        _kill(proc)


# The child raises the signal inside a weakref callback as ``bot.cli_commands`` starts to
# load, where a real one lands now and then (importlib's module locks end in such
# callbacks): what a callback raises Python reports as "Exception ignored" and goes on.
_SIGNAL_SWALLOWED = """
import importlib.abc, signal, sys, weakref

class Loaded:
    pass

class SignalInACallback(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "bot.cli_commands":
            sys.meta_path.remove(self)
            loaded = Loaded()
            kept = weakref.ref(loaded, lambda _: signal.raise_signal(signal.{sig}))
            del loaded
        return None

sys.meta_path.insert(0, SignalInACallback())
from bot.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM], ids=["hangup", "sigterm"])
async def test_a_stop_whose_raise_start_up_swallowed_still_stops_it(
    slack: LocalSlack, settings: Settings, sig: signal.Signals
) -> None:
    """A SIGHUP (a terminal closed as the bot starts) or SIGTERM before the loop's handler
    exists raised an exception wherever the process was: where that was a callback whose
    errors Python only reports, the stop was lost, and the bot started and ran on."""
    env = clean_env(
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_APP_TOKEN=slack.app_token,
        SLACK_API_URL=slack.api_url,
        SIGNOFF_HOME=str(settings.home),
    )
    script = _SIGNAL_SWALLOWED.replace("{sig}", sig.name)
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, "run", env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        async with asyncio.timeout(30):
            _, err = await child.communicate()
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    assert child.returncode == 0, err.decode(errors="replace")
    assert slack.sockets() == [], "it connected to Slack after it was told to stop"
