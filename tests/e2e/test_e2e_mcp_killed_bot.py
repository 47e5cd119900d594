"""``signoff run`` as a real process, with a real MCP server over stdio, killed by SIGKILL
right before or right after it sends an approved call: a new bot never sends it again.
Before: nothing reached the server, and the thread is told it may or may not have run. After:
the server ran it once, and the thread is told the same (signoff cannot know it finished)."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from signoff_e2e_kit import OPS, BotProcess, bot_messages, mention, until, wait_card

from bot.cards import APPROVE
from bot.config import Settings
from localslack import LocalSlack

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tooling"))

from mcp_fixture_kit import records, server_table, stdio_command, write_config

if TYPE_CHECKING:
    from conftest import BotFactory


@pytest.mark.parametrize(
    ("failpoint", "sent"), [("executor.after_intent", 0), ("executor.after_tool_call", 1)]
)
async def test_a_bot_killed_around_an_approved_mcp_call_never_sends_it_twice(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    tmp_path: Path,
    failpoint: str,
    sent: int,
) -> None:
    record = tmp_path / "ops-calls.jsonl"
    config = write_config(
        tmp_path / "signoff.toml", server_table(f"command = {stdio_command(record)}")
    )
    process = BotProcess(
        slack, settings.home, tmp_path, SIGNOFF_CONFIG=str(config), SIGNOFF_FAILPOINT=failpoint
    )
    try:
        await slack.wait_for_sockets(1, timeout=30)
        thread = await mention(slack, "call ops__restart_deployment deployment=api namespace=prod")
        card = await wait_card(slack, thread, timeout=30)
        await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
        await until(lambda: process.proc.poll() is not None, timeout=30, what="the failpoint")
    finally:
        process.kill()
    assert process.proc.returncode == -signal.SIGKILL, process.log()
    await until(lambda: not slack.sockets(), what="the dead process's socket to close")
    assert len(records(record, "restart_deployment")) == sent

    bot = await start_bot(config_path=config)
    await slack.wait_for_sockets(1, timeout=5)
    await bot.engine.recover()
    await bot.engine.idle()
    await until(
        lambda: bot_messages(slack, thread, "may or may not have run"),
        timeout=20,
        what="word of the outcome",
    )
    await bot.engine.idle()
    told = bot_messages(slack, thread, "may or may not have run")
    assert len(told) == 1, told
    calls = records(record, "restart_deployment")
    assert len(calls) == sent  # never sent again
    assert all(c["arguments"] == {"deployment": "api", "namespace": "prod"} for c in calls)
