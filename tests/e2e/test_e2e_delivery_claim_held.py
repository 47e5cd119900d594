"""A terminal stopped while it holds the outbox's drain claim is named, not silently waited on.

A terminal ``signoff`` given the bot's tokens delivers what it queued itself, holding the
home's one drain claim meanwhile. Suspended there (Ctrl-Z) when the bot started, the bot
delivered nothing for anyone until it went on, and said nothing about why. It still does
not take the claim over (an entry the terminal was sending could go out twice), but after
a short wait it logs one warning naming the holder, and ``/readyz`` says so, until it has
the claim.

Deterministic: a forked process takes the claim and stops itself (SIGSTOP) holding it; the
wait is measured on the bot's clock, which the test moves.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from helpers_proc import stopped_claiming_delivery
from signoff_e2e_kit import bot_messages, bot_reply, mention, until

from bot.app import SignoffBot
from bot.config import Settings
from localslack import LocalSlack
from sessions import FixedClock, Home, coordination_for

if TYPE_CHECKING:
    from conftest import BotFactory


async def readyz(bot: SignoffBot) -> tuple[int, Any]:
    assert bot.ops is not None
    async with (
        aiohttp.ClientSession() as http,
        http.get(bot.ops.url + "/readyz", timeout=aiohttp.ClientTimeout(total=5)) as response,
    ):
        return response.status, await response.json()


async def test_a_stopped_terminal_holding_delivery_is_named_until_the_bot_takes_over(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    e2e_clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="signoff.delivery")
    with stopped_claiming_delivery(settings.home) as pid:
        bot = await start_bot()
        await slack.wait_for_sockets(1, timeout=5)
        thread = await mention(slack, "status of api")
        outbox = coordination_for(Home(settings.home)).outbox
        await until(lambda: outbox.depth() > 0, what="the reply to be queued")

        e2e_clock.advance(timedelta(minutes=1))
        body = await ready_when(bot, lambda status, body: str(pid) in " ".join(body["problems"]))
        assert body["problems"] == [body["checks"]["delivery"]], body
        e2e_clock.advance(timedelta(minutes=5))  # still held: no second warning
        await ready_when(bot, lambda status, body: body["checks"]["delivery"] != "ok")
        warned = [r.getMessage() for r in caplog.records if str(pid) in r.getMessage()]
        assert len(warned) == 1 and "deliver" in warned[0], caplog.records
        assert bot_messages(slack, thread) == []

    # The terminal goes on (here: lets go): the bot takes the claim, delivers, and is ready.
    await bot_reply(slack, thread, "service=api,")
    await ready_when(bot, lambda status, body: status == 200 and body["checks"]["delivery"] == "ok")


async def ready_when(bot: SignoffBot, condition: Callable[[int, Any], bool]) -> Any:
    deadline = asyncio.get_running_loop().time() + 10
    while not condition(*(answer := await readyz(bot))):
        assert asyncio.get_running_loop().time() < deadline, answer
        await asyncio.sleep(0.05)
    return answer[1]
