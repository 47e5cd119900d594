"""A step that outlasts Slack's two minutes, through the real Bolt app: Slack removes a
thread's status line two minutes after it was set when no message came meanwhile
(``assistant.threads.setStatus``), so a tool that runs longer showed nothing while
signoff still worked. The live view sets the line again while the step lasts, and not
once it is over. LocalSlack's clock is moved on instead of waiting two minutes."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from live_kit import FAST, shown, status_sets
from ops_kit import Call, FakeOpenAI
from signoff_e2e_kit import bot_reply, mention, until

from bot.config import Settings
from localslack import LocalSlack, WorkspaceConfig

if TYPE_CHECKING:
    from conftest import BotFactory

HELD_TOOL = '''
import asyncio

from agent_core.tools import ToolContext, tool


@tool(parallel_safe=True)
async def long_check(ctx: ToolContext) -> str:
    """Take as long as the test holds it (a stand-in for a slow health check)."""
    (ctx.home / "long-started").write_text("")
    for _ in range(600):
        if (ctx.home / "long-release").exists():
            break
        await asyncio.sleep(0.05)
    return "all good"


TOOLS = [long_check]
'''

RUNNING = "is running long_check…"
_later = [0.0]  # how far LocalSlack's clock is ahead of the wall clock


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    _later[0] = 0.0
    async with LocalSlack(
        WorkspaceConfig(seed=7, timing=FAST), clock=lambda: time.time() + _later[0]
    ) as server:
        yield server


async def test_a_tool_that_outlasts_two_minutes_keeps_its_status_line(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "held_tools.py").write_text(HELD_TOOL)
    monkeypatch.syspath_prepend(str(tools))
    home = settings.home
    async with FakeOpenAI() as model:
        monkeypatch.setenv("OPENAI_BASE_URL", model.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-long-0000")
        model.reply(tool_calls=[Call("long_check", {})])
        model.reply("The long check says all good.")
        bot = await start_bot(model="openai-compatible:fake", tool_modules=("held_tools",))
        assert bot.live is not None
        bot.live.line.keep_every = 0.3  # Slack's two minutes are LocalSlack's clock's, below
        await slack.wait_for_sockets(1, timeout=5)
        thread = await mention(slack, "run the long check")
        await until(lambda: (home / "long-started").exists(), what="the tool to start")
        await until(lambda: shown(slack, thread) == RUNNING, what="the status line")

        _later[0] += 121  # two minutes without a message: Slack took the line away
        assert shown(slack, thread) is None
        await until(lambda: shown(slack, thread) == RUNNING, what="the line set again")

        (home / "long-release").write_text("")
        await bot_reply(slack, thread, "all good")
        kept = status_sets(slack, thread).count(RUNNING)
        await bot.engine.idle()
        await bot.live.settle()
        assert shown(slack, thread) is None
        # Nothing set again once the step is over (the turn's end took the line away).
        assert status_sets(slack, thread).count(RUNNING) == kept
