"""A command tool running when ``signoff run`` gets SIGTERM and its drain runs out: the
call is cut, its process group ends with it (a program that ignores SIGTERM too), the next
bot reports the call as uncertain, and the program ran once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from signoff_e2e_kit import OPS, BotProcess, bot_messages, mention, until, wait_card
from test_e2e_command_killed_bot import alive

from bot.cards import APPROVE
from bot.config import Settings
from localslack import LocalSlack

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tooling"))

from mcp_fixture_kit import toml_str, write_config

if TYPE_CHECKING:
    from conftest import BotFactory

# Counts its runs, writes its pid, ignores SIGTERM and hangs.
STUBBORN = (
    "import os, signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "open(sys.argv[1], 'a').write(str(os.getpid()) + '\\n'); time.sleep(600)"
)


async def test_a_command_running_when_signoff_stops_ends_and_is_uncertain_after(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    config = write_config(
        tmp_path / "signoff.toml",
        "[commands.stubborn]\n"
        'description = "stubborn"\n'
        f"argv = [{toml_str(sys.executable)}, '-c', {toml_str(STUBBORN)}, {toml_str(runs)}]\n"
        'timeout = "600s"\n',
    )
    process = BotProcess(
        slack, settings.home, tmp_path, SIGNOFF_CONFIG=str(config), SIGNOFF_DRAIN_S="1"
    )
    pid = 0
    try:
        await slack.wait_for_sockets(1, timeout=30)
        thread = await mention(slack, "call stubborn")
        card = await wait_card(slack, thread, timeout=30)
        await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
        await until(lambda: runs.exists() and runs.read_text(), what="the command")
        pid = int(runs.read_text().split()[0])
        process.proc.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(process.proc.wait, 30)
        assert code == 0, process.log()
        await until(lambda: not alive(pid), timeout=10, what="the command to end")
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
        assert len(runs.read_text().split()) == 1, "the command ran again"
    finally:
        if pid and alive(pid):
            os.kill(pid, signal.SIGKILL)
