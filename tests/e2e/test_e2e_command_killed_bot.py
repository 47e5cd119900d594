"""A command tool that hangs, under ``signoff run`` killed by SIGKILL while it runs: its
timeout is signoff's to enforce, and a dead signoff enforces nothing. The command runs in
its own process group (so the timeout can kill the whole of it), which also kept it out
of reach of the kill that took signoff: it ran on past its timeout, with nothing left that
would ever stop it. Now the group's leader is a guard that ends the group once signoff is
gone (``agent_core/tools/command_guard.py``). The new bot reports the call as uncertain
(it never re-runs it), and the hung program is gone."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from signoff_e2e_kit import OPS, BotProcess, bot_messages, mention, until, wait_card

from bot.cards import APPROVE
from bot.config import Settings
from localslack import LocalSlack

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tooling"))

from mcp_fixture_kit import toml_str, write_config

if TYPE_CHECKING:
    from conftest import BotFactory

# Writes its pid, then hangs (as a program waiting on a network that never answers).
HANG = "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(600)"


def alive(pid: int) -> bool:
    """Running: not gone, and not a zombie nobody reaped (a container's PID 1 may not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def test_a_hung_command_does_not_outlive_its_timeout_when_signoff_is_killed(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    pid_file = tmp_path / "hang.pid"
    config = write_config(
        tmp_path / "signoff.toml",
        "[commands.hang]\n"
        'description = "hang"\n'
        f"argv = [{toml_str(sys.executable)}, '-c', {toml_str(HANG)}, {toml_str(pid_file)}]\n"
        'timeout = "2s"\n',
    )
    process = BotProcess(slack, settings.home, tmp_path, SIGNOFF_CONFIG=str(config))
    pid = 0
    try:
        await slack.wait_for_sockets(1, timeout=30)
        thread = await mention(slack, "call hang")
        card = await wait_card(slack, thread, timeout=30)
        await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
        await until(lambda: pid_file.exists() and pid_file.read_text(), what="the command")
        pid = int(pid_file.read_text())
    finally:
        process.kill()
    try:
        await until(lambda: not slack.sockets(), what="the dead process's socket to close")
        bot = await start_bot(config_path=config)
        await slack.wait_for_sockets(1, timeout=5)
        await bot.engine.recover()
        await until(
            lambda: bot_messages(slack, thread, "may or may not have run"),
            timeout=20,
            what="word of the outcome",
        )
        # Its 2 s timeout, and the 2 s grace before SIGKILL, are long past.
        try:
            await until(lambda: not alive(pid), timeout=10, what="the hung command to end")
        except TimeoutError:
            raise AssertionError("the hung command still runs, past its timeout") from None
    finally:
        if pid and alive(pid):
            os.kill(pid, signal.SIGKILL)
