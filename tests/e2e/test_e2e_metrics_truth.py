"""/metrics says what happened, whoever made it happen: the pending-approvals gauge after a
restart, a decision from a terminal (another process) and an expiry; the events counter
after a redelivered envelope; the outbox's depth while another process holds delivery."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from signoff_e2e_kit import (
    answered_deliveries,
    approval_id_of,
    bot_reply,
    mention,
    until,
    wait_card,
)
from test_e2e_ops_http import Samples, scrape, value

from bot.app import SignoffBot
from bot.config import Settings
from localslack import LocalSlack
from sessions import FixedClock, Home, coordination_for

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers_proc import cli, ok, stopped_claiming_delivery

if TYPE_CHECKING:
    from conftest import BotFactory


async def test_the_pending_gauge_follows_restarts_terminal_decisions_and_expiry(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, e2e_clock: FixedClock
) -> None:
    bot: SignoffBot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    first = await mention(slack, "restart api")
    card_a = await wait_card(slack, first)
    second = await mention(slack, "restart web")
    await wait_card(slack, second)
    await bot.engine.idle()
    assert value(await scrape(bot), "signoff_approvals_pending") == 2

    await bot.stop()
    again: SignoffBot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    await again.engine.idle()
    restarted = await scrape(again)
    assert value(restarted, "signoff_approvals_pending") == 2
    assert value(restarted, "signoff_sessions", state="awaiting_approval") == 2

    when = e2e_clock.now().isoformat()  # the terminal on the bot's clock
    ok(cli(settings.home, "approve", approval_id_of(card_a), "--as", "U0BOB", frozen=when))
    await again.engine.idle()
    assert value(await scrape(again), "signoff_approvals_pending") == 1

    e2e_clock.advance(timedelta(days=8))  # past the default expiry of 7 days
    await again.engine.sweep()
    await again.engine.idle()
    swept = await scrape(again)
    assert value(swept, "signoff_approvals_pending") == 0
    assert value(swept, "signoff_approvals_total", outcome="expired") == 1


async def test_duplicated_envelopes_are_each_counted_once_and_stored_once(
    slack: LocalSlack, start_bot: BotFactory
) -> None:
    """Every envelope Slack sent ends in exactly one outcome; each message stored once."""
    bot: SignoffBot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    slack.duplicate_events(seed=5, max_copies=3)
    threads = [await mention(slack, f"status of {s}") for s in ("api", "web", "db")]
    await until(
        lambda: all(answered_deliveries(slack, t) for t in threads), what="every envelope acked"
    )
    await bot.engine.idle()
    await until(
        lambda: all(d.acked for d in slack.deliveries(type="events_api")), what="the replies' too"
    )
    samples = await scrape(bot)
    kinds, outcomes = ("app_mention", "message"), (
        "stored", "duplicate", "ignored", "dropped", "quarantined", "deferred",
    )  # fmt: skip
    counted = {
        (k, o): value(samples, "signoff_events_total", type=k, outcome=o)
        for k in kinds
        for o in outcomes
    }
    # Every envelope: the people's messages, their twins and the bot's own replies.
    sent = slack.deliveries(type="events_api")
    assert slack.chaos_events(kind="duplicate"), "the seed made no copies: nothing tested"
    assert sum(counted.values()) == len(sent), (counted, len(sent))
    assert sum(v for (k, o), v in counted.items() if o == "stored") == 3, counted


async def test_the_outbox_depth_counts_what_waits_while_another_process_holds_delivery(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings
) -> None:
    """A terminal suspended while it holds the outbox's drain claim: nothing goes out, the
    replies pile up, and the gauge said what it last saw (0), as if all were sent."""
    outbox = coordination_for(Home(settings.home)).outbox
    with stopped_claiming_delivery(settings.home):
        bot: SignoffBot = await start_bot()
        await slack.wait_for_sockets(1, timeout=5)
        thread = await mention(slack, "status of api")
        await until(lambda: outbox.depth() > 0, what="the reply to be queued")
        await bot.engine.idle()
        await until_scraped(bot, lambda s: value(s, "signoff_outbox_depth") == outbox.depth())
    await bot_reply(slack, thread, "service=api,")  # let go: the bot delivers
    await until_scraped(bot, lambda s: value(s, "signoff_outbox_depth") == 0)


async def until_scraped(bot: SignoffBot, condition: Callable[[Samples], bool]) -> None:
    deadline = asyncio.get_running_loop().time() + 10
    while not condition(samples := await scrape(bot)):
        got = value(samples, "signoff_outbox_depth")
        assert asyncio.get_running_loop().time() < deadline, f"signoff_outbox_depth {got}"
        await asyncio.sleep(0.05)
