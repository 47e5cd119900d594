"""Draining on stop: a slow tool call finishes, the Socket Mode link stays closed, and
``signoff run`` exits 0 on SIGTERM within ``SIGNOFF_DRAIN_S``.

The model is the real OpenAI adapter against a local server that scripts one call to a
slow tool (a ``SIGNOFF_TOOLS`` module written to a temp dir); Slack is LocalSlack.
Reconnects are counted by ``apps.connections.open``: the SDK fetches a fresh URL for
every new connection.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from ops_kit import Call, FakeOpenAI, slow_tool_bot, write_slow_tool
from signoff_e2e_kit import bot_reply, mention, session_states, until

from bot.app import SignoffBot
from bot.config import Settings
from localslack import LocalSlack

if TYPE_CHECKING:
    from conftest import BotFactory


@pytest.fixture
async def model() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as api:
        api.reply(tool_calls=[Call("slow_check", {"seconds": 1.5})])
        api.reply("The slow check says all good.")
        yield api


def opens(slack: LocalSlack) -> int:
    return len(slack.calls("apps.connections.open"))


async def test_stop_keeps_the_link_closed_while_a_slow_tool_finishes(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    model: FakeOpenAI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tools = tmp_path / "tools"
    module = write_slow_tool(tools, "slow_tools_inprocess")
    monkeypatch.syspath_prepend(str(tools))
    monkeypatch.setenv("OPENAI_BASE_URL", model.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-inprocess-0000")
    home = settings.home
    # A short ping interval: the SDK's monitor would reconnect within a fraction of a second.
    bot: SignoffBot = await start_bot(
        ping_interval=0.2, model="openai-compatible:fake", tool_modules=(module,)
    )
    await slack.wait_for_sockets(1, timeout=5)
    assert opens(slack) == 1
    thread = await mention(slack, "run the slow check")
    await until(lambda: (home / "slow-started").exists(), what="the slow tool to start")

    # Counted from here: under load, 0.2 s pings may time out and reconnect before the
    # stop, which is the monitor doing its job; after it, no reconnect may happen.
    before = opens(slack)
    began = time.monotonic()
    await bot.stop(grace=10)
    took = time.monotonic() - began
    assert (home / "slow-finished").exists(), "stop returned before the tool finished"
    assert 0.5 < took < 10
    await bot_reply(slack, thread, "all good")
    assert list(session_states(home).values()) == ["completed"]
    assert opens(slack) == before, "the link reconnected while draining"
    assert slack.sockets() == []


async def test_sigterm_with_a_slow_tool_running_exits_0_within_the_drain(
    slack: LocalSlack, settings: Settings, model: FakeOpenAI, tmp_path: Path
) -> None:
    home = settings.home
    run = slow_tool_bot(slack, home, model, tmp_path, module="slow_tools", drain_s="10")
    try:
        await run.connected(slack)
        thread = await mention(slack, "run the slow check")
        await until(lambda: (home / "slow-started").exists(), what="the slow tool to start")

        before = opens(slack)
        began = time.monotonic()
        run.terminate()
        assert await run.exit_code(timeout=15) == 0, run.stderr()
        took = time.monotonic() - began
    finally:
        run.kill()
    assert took < 10
    assert (home / "slow-finished").exists()
    await bot_reply(slack, thread, "all good")
    assert list(session_states(home).values()) == ["completed"]
    assert opens(slack) == before, "the link reconnected while draining"
    events = [line["event"] for line in run.log_lines()]
    assert "socket_down" in events and events[-1] == "stopped"
