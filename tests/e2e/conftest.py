"""End-to-end fixtures: localslack plus the real bot (slack_bolt + slack_sdk) in one loop."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from signoff_e2e_kit import until

from bot.app import SignoffBot
from bot.config import Settings
from localslack import LocalSlack, Timing, WorkspaceConfig
from sessions import FixedClock

for _var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
    os.environ.pop(_var, None)

FAST = Timing(ack_timeout=1.0, server_ping_interval=None)
BOT = "U0SIGNOFF"


@pytest.fixture
async def slack(request: pytest.FixtureRequest) -> AsyncIterator[LocalSlack]:
    marker = request.node.get_closest_marker("slack_timing")
    timing = marker.args[0] if marker else FAST
    async with LocalSlack(WorkspaceConfig(seed=7, timing=timing)) as server:
        yield server


@pytest.fixture
def e2e_clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def settings(slack: LocalSlack, tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "home",
        slack_bot_token=SecretStr(slack.bot_token),
        slack_app_token=SecretStr(slack.app_token),
        slack_api_url=slack.api_url,
        http="127.0.0.1:0",  # an ephemeral port: tests run beside other bots
        demo_tools=True,  # these tests drive the simulated fleet
    )


BotFactory = Callable[..., Awaitable[SignoffBot]]


@pytest.fixture
async def start_bot(
    settings: Settings, e2e_clock: FixedClock, request: pytest.FixtureRequest
) -> AsyncIterator[BotFactory]:
    running: list[SignoffBot] = []
    # A test of what the bot's own sweep loop does, not a sweep it calls, waits for it:
    # its marker shortens the production 5 s between passes.
    marker = request.node.get_closest_marker("sweep_every")

    async def factory(
        *, ping_interval: float = 10, model_retry_scale: float = 0.1, **changes: Any
    ) -> SignoffBot:
        """A started bot; ``changes`` are Settings fields, ``ping_interval`` the Socket Mode
        client's (a smaller one notices a dead socket sooner). A connection error or 5xx
        is retried as often as in production, after a tenth of the wait (0.05-0.2 s, not
        0.5-2 s): many tests have localslack drop every call of a method. So is a failed
        model call (``model_retry_scale``: 0.05-0.4 s, not 0.5-4 s between its 4 attempts;
        1.0 where what the test checks happens during a wait)."""
        bot = await SignoffBot.build(
            settings.model_copy(update=changes),
            clock=e2e_clock,
            ping_interval=ping_interval,
            retry_scale=0.1,
            model_retry_scale=model_retry_scale,
        )
        if marker is not None:
            bot.sweep_every = float(marker.args[0])
        await bot.start()
        running.append(bot)
        return bot

    yield factory
    for bot in running:
        if bot.handler.accepting:
            await bot.stop(grace=5)


async def restart(
    bot: SignoffBot,
    start_bot: BotFactory,
    slack: LocalSlack,
    *,
    while_down: Callable[[], object] | None = None,
    **changes: object,
) -> SignoffBot:
    """Stop ``bot`` as SIGTERM would, then start a fresh one (``changes``: Settings fields)
    once the old socket is gone; ``while_down`` runs in between (the clock moving on)."""
    await bot.engine.idle()
    await bot.stop(grace=5)
    await until(lambda: not slack.sockets(), what="the old bot's socket to close")
    if while_down is not None:
        while_down()
    fresh: SignoffBot = await start_bot(**changes)
    await slack.wait_for_sockets(1, timeout=5)
    return fresh


@pytest.fixture
async def bot(start_bot: BotFactory, slack: LocalSlack) -> SignoffBot:
    started: SignoffBot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    return started
