"""The status line after a turn ends, through the real Bolt app: signoff clears it a
second later unless a post did, and nothing may leave it showing (or clear a newer turn's)
when the second's clear meets a status call still on its way, a stop, a failed reply or
the next turn of the thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from live_kit import (
    FakeAnthropic,
    ToolUse,
    anthropic_api,
    anthropic_bot,
    shown,
    slack,
    status_sets,
)
from signoff_e2e_kit import OPS, bot_reply, mention, until, wait_card

from bot import status_line
from bot.app import SignoffBot
from bot.cards import APPROVE
from localslack import LocalSlack

__all__ = ["anthropic_api", "slack"]


async def test_a_status_that_lands_after_the_clear_window_is_still_cleared(
    slack: LocalSlack, monkeypatch: pytest.MonkeyPatch, start_bot: Callable[..., Any]
) -> None:
    # Slack rate-limits the first "is thinking…" (the live client waits and sends it again)
    # while the turn answers and ends: the status lands after the end's clear was due.
    monkeypatch.setattr(status_line, "CLEAR_AFTER_S", 0.05)
    slack.inject_fault(method="assistant.threads.setStatus", status=429, retry_after=2)
    started: SignoffBot = await start_bot()
    thread = await mention(slack, "how is api?")
    await bot_reply(slack, thread, "api")
    await started.engine.idle()
    live = started.live
    assert live is not None
    await until(lambda: not live.line.clears)  # the end's second is over, the status not yet set
    await live.settle()  # the status call lands
    assert status_sets(slack, thread)[-1] == ""
    assert shown(slack, thread) is None


async def _a_turn_that_posts_nothing(
    slack: LocalSlack,
    monkeypatch: pytest.MonkeyPatch,
    anthropic_api: FakeAnthropic,
    start_bot: Callable[..., Any],
) -> tuple[SignoffBot, str]:
    """An approved call runs and the model adds nothing: the card shows how it ended, so
    that last turn posts nothing and only the clear can take its status line away."""
    anthropic_api.reply("", ToolUse("restart_service", {"service": "api"}, id="toolu_01R"))
    anthropic_api.reply("")
    started: SignoffBot = await anthropic_bot(monkeypatch, anthropic_api, start_bot)()
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    return started, thread


async def test_a_stop_within_the_window_clears_the_status_before_the_connection_closes(
    slack: LocalSlack,
    monkeypatch: pytest.MonkeyPatch,
    anthropic_api: FakeAnthropic,
    start_bot: Callable[..., Any],
) -> None:
    monkeypatch.setattr(status_line, "CLEAR_AFTER_S", 600.0)  # only the stop clears it
    started, thread = await _a_turn_that_posts_nothing(slack, monkeypatch, anthropic_api, start_bot)
    await until(lambda: status_sets(slack, thread)[-1:] == ["is thinking…"])
    await started.engine.idle()
    assert started.live is not None
    await until(lambda: bool(started.live and started.live.line.clears))
    assert shown(slack, thread) == "is thinking…"
    await started.stop(grace=5)
    assert shown(slack, thread) is None
    assert status_sets(slack, thread)[-2:] == ["is thinking…", ""]


async def test_a_stop_clears_a_status_whose_call_is_still_on_its_way(
    slack: LocalSlack,
    monkeypatch: pytest.MonkeyPatch,
    anthropic_api: FakeAnthropic,
    start_bot: Callable[..., Any],
) -> None:
    # The bot stops (SIGTERM) right after a turn that posts nothing, while its status call
    # waits out a 429: the stop's clear must come after that call, not be skipped.
    monkeypatch.setattr(status_line, "CLEAR_AFTER_S", 600.0)  # only the stop clears it
    started, thread = await _a_turn_that_posts_nothing(slack, monkeypatch, anthropic_api, start_bot)
    await until(lambda: "restart_service: approved" in str(slack.thread(channel=OPS, ts=thread)))
    slack.inject_fault(method="assistant.threads.setStatus", status=429, retry_after=1)
    await started.engine.idle()
    await until(lambda: bool(started.live and started.live.line.clears))  # the turn ended
    await started.stop(grace=5)
    assert status_sets(slack, thread)[-1] == ""
    assert shown(slack, thread) is None


async def test_a_reply_that_fails_leaves_no_status_while_the_outbox_retries(
    slack: LocalSlack, bot: SignoffBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The reply's post fails: the end's clear is due before the outbox posts it again.
    monkeypatch.setattr(status_line, "CLEAR_AFTER_S", 0.0)
    slack.inject_fault(method="chat.postMessage", error="internal_error", status=500)
    thread = await mention(slack, "how is api?")
    await bot_reply(slack, thread, "api")
    await bot.engine.idle()
    assert bot.live is not None
    await until(lambda: not (bot.live and bot.live.line.clears))
    await bot.live.settle()
    assert shown(slack, thread) is None


async def test_the_next_turn_within_the_window_keeps_its_status(
    slack: LocalSlack,
    monkeypatch: pytest.MonkeyPatch,
    anthropic_api: FakeAnthropic,
    start_bot: Callable[..., Any],
) -> None:
    monkeypatch.setattr(status_line, "CLEAR_AFTER_S", 600.0)  # the next turn is surely within
    anthropic_api.reply("")  # the first turn posts nothing: its clear is pending
    anthropic_api.reply(ToolUse("restart_service", {"service": "api"}))
    started: SignoffBot = await anthropic_bot(monkeypatch, anthropic_api, start_bot)()
    thread = await mention(slack, "anything?")
    await until(lambda: bool(started.live and started.live.line.clears))  # the first turn ended
    await mention(slack, "restart api", thread_ts=thread, user="U0ALICE")
    await wait_card(slack, thread)
    await started.engine.idle()
    assert started.live is not None
    await started.live.settle()
    assert shown(slack, thread) == "is waiting for approval"


async def test_many_turns_leave_nothing_behind_in_the_live_view(
    slack: LocalSlack, bot: SignoffBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(status_line, "CLEAR_AFTER_S", 0.01)
    threads = [await mention(slack, f"how is api? ({n})") for n in range(12)]
    for thread in threads:
        await bot_reply(slack, thread, "api")
    await bot.engine.idle()
    live = bot.live
    assert live is not None
    await until(lambda: not live.line.clears)
    await live.settle()
    assert live.lanes.threads() == set()
    assert (live.line.clears, live.line.shown, live.waiting_cards, live.sessions.shown) == (
        {},
        {},
        {},
        {},
    )
    await until(lambda: not live.streams._tasks)  # each reply stream's flush timer ran out
    assert all(shown(slack, t) is None for t in threads)
