"""Draining on stop: a slow tool call finishes, the Socket Mode link stays closed, and
``signoff run`` exits 0 on SIGTERM within ``SIGNOFF_DRAIN_S``.

The model is the real OpenAI adapter against a local server that scripts one call to a
slow tool (a ``SIGNOFF_TOOLS`` module written to a temp dir); Slack is LocalSlack.
Reconnects are counted by ``apps.connections.open``: the SDK fetches a fresh URL for
every new connection.
"""

from __future__ import annotations

import asyncio
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

    began = time.monotonic()
    stopping = asyncio.ensure_future(bot.stop(grace=10))
    # Counted from the link's stop: under load, 0.2 s pings may time out and reconnect
    # before it, which is the monitor doing its job; after it, no reconnect may happen.
    await until(lambda: bot.handler.client.closed, what="the link to be stopped")
    before = opens(slack)
    await stopping
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


async def test_a_reconnect_waiting_on_its_lock_when_the_link_stops_opens_nothing(
    slack: LocalSlack, start_bot: BotFactory
) -> None:
    """The SDK's monitor starts a reconnect, which waits for the connect lock; the stop
    comes meanwhile. The reconnect had passed the stopped check on its way in, and asked
    Slack for a new link after the stop (the drain test saw it under load)."""
    bot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    client = bot.handler.client
    before = opens(slack)

    async def reconnect_racing_the_stop() -> None:
        lock = client.connect_operation_lock
        await lock.acquire()
        waiting = asyncio.ensure_future(client.connect_to_new_endpoint(force=True))
        for _ in range(10):  # into the lock's queue: a few turns of the loop
            await asyncio.sleep(0)
        await client.stop()
        lock.release()
        await waiting

    await bot.socket.call(reconnect_racing_the_stop())
    assert opens(slack) == before, "a new link was asked for after the stop"
    assert client.link_problem() == "socket mode: stopped"
