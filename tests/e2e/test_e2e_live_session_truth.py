"""The thread's agent session tells the truth, through the real Bolt app: ``processing``
(with its stop button) exactly while a turn runs, never left behind once nothing does.

Slack never moves a session by itself, except that ``chat.stopStream`` sets it to its
``session_status`` argument (``active`` by default): the app must move it, whatever else
happened meanwhile — a reply finalized mid-turn, one failed call, a stop with nothing
running, a decision made from a terminal.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from live_kit import (
    FakeAnthropic,
    ToolUse,
    anthropic_api,
    anthropic_bot,
    final_replies,
    slack,
)
from signoff_e2e_kit import OPS, approval_id_of, bot_reply, mention, until, wait_card

from bot.app import SignoffBot
from bot.config import Settings
from localslack import Fault, LocalSlack

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers_proc import cli, ok

__all__ = ["anthropic_api", "slack"]

Start = Callable[..., Awaitable[SignoffBot]]


@pytest.fixture
def start(
    monkeypatch: pytest.MonkeyPatch, anthropic_api: FakeAnthropic, start_bot: Callable[..., Any]
) -> Start:
    return anthropic_bot(monkeypatch, anthropic_api, start_bot)


def session_status(slack: LocalSlack, thread: str) -> str | None:
    session = slack.agent_session(channel=OPS, thread_ts=thread)
    return None if session is None else str(session["status"])


async def test_a_reply_finalized_mid_turn_leaves_the_session_processing(
    slack: LocalSlack, start: Start, anthropic_api: FakeAnthropic
) -> None:
    anthropic_api.reply(
        "Let me look at the api service first, then I will tell you.",
        ToolUse("service_status", {"service": "api"}, id="toolu_01S"),
        chunk_delay=0.05,
    )
    anthropic_api.reply("The api is healthy.", delay=2.0)  # the turn goes on meanwhile
    bot = await start()
    thread = await mention(slack, "is api ok?")
    await slack.wait_for_stream(channel=OPS, thread_ts=thread, state="stopped", timeout=10)
    await until(lambda: len(anthropic_api.requests) == 2, what="the turn's second model call")
    # The first reply is final, but the turn still runs: the stop button must still be there.
    assert session_status(slack, thread) == "processing"
    await until(lambda: len(final_replies(slack, thread)) == 2, timeout=10)
    await bot.engine.idle()
    await slack.wait_for_session_status(channel=OPS, thread_ts=thread, status="active")


async def test_one_failed_status_call_does_not_leave_the_stop_button_forever(
    slack: LocalSlack, start: Start, anthropic_api: FakeAnthropic
) -> None:
    anthropic_api.reply("All fine.", delay=1.0)
    bot = await start()
    thread = await mention(slack, "how is it?")
    await slack.wait_for_session_status(channel=OPS, thread_ts=thread, status="processing")
    # The call that ends the session fails once (a 500: it did not take effect).
    slack.inject_fault(method="agents.sessions.setStatus", error="internal_error", status=500)
    await until(lambda: len(final_replies(slack, thread)) == 1, timeout=10)
    await bot.engine.idle()
    assert bot.live is not None
    await bot.live.settle()
    assert session_status(slack, thread) == "active"


async def left_processing(
    slack: LocalSlack, start: Start, anthropic_api: FakeAnthropic
) -> tuple[SignoffBot, str, Fault]:
    """A bot, a thread whose turn is over but whose session still shows processing, and
    the fault still failing every status call (a 500: none took effect)."""
    anthropic_api.reply("All fine.", delay=1.0)
    bot = await start()
    thread = await mention(slack, "how is it?")
    await slack.wait_for_session_status(channel=OPS, thread_ts=thread, status="processing")
    failing = slack.inject_fault(
        method="agents.sessions.setStatus", error="internal_error", status=500, count=None
    )
    await until(lambda: len(final_replies(slack, thread)) == 1, timeout=10)
    await bot.engine.idle()
    assert bot.live is not None
    await bot.live.settle()
    assert session_status(slack, thread) == "processing"  # left behind: the turn is over
    return bot, thread, failing


async def test_a_status_slack_kept_failing_is_set_once_slack_answers_again(
    slack: LocalSlack, start: Start, anthropic_api: FakeAnthropic
) -> None:
    """Every try of the call that ends the session failed (Slack's sessions failing for a
    while): the same bot sets what the thread's records say once Slack answers again, not
    only the next bot or the next mention."""
    _, thread, failing = await left_processing(slack, start, anthropic_api)
    slack.remove_fault(failing)
    await slack.wait_for_session_status(channel=OPS, thread_ts=thread, status="active", timeout=20)


async def test_a_thread_whose_ending_status_failed_shows_the_stop_button_next_turn(
    slack: LocalSlack, start: Start, anthropic_api: FakeAnthropic
) -> None:
    """The outbox set "active" at last, but the live view still took the thread's session
    for "processing": kept for as long as the bot ran (one entry per such thread), and the
    thread's next turn was never shown processing, so it had no stop button."""
    bot, thread, failing = await left_processing(slack, start, anthropic_api)
    slack.remove_fault(failing)
    await slack.wait_for_session_status(channel=OPS, thread_ts=thread, status="active", timeout=20)
    assert bot.live is not None
    assert bot.live.sessions.shown == {}  # an idle thread costs nothing in memory
    anthropic_api.reply("Still fine.", delay=1.0)
    await mention(slack, "and now?", thread_ts=thread)
    await until(
        lambda: session_status(slack, thread) == "processing", what="the next turn's stop button"
    )
    await until(lambda: len(final_replies(slack, thread)) == 2, timeout=10)
    await bot.engine.idle()
    await bot.live.settle()
    assert session_status(slack, thread) == "active"


async def test_a_status_slack_kept_rate_limiting_is_set_once_slack_answers_again(
    slack: LocalSlack, start: Start, anthropic_api: FakeAnthropic
) -> None:
    """A 429 is a definite answer (the call did not take effect), and the live client's own
    retries of it ran out: the call that ended the session was given up like any refusal,
    and the stop button stayed for good. Now it goes to the outbox, as a 5xx does."""
    anthropic_api.reply("All fine.", delay=1.0)
    bot = await start()
    thread = await mention(slack, "how is it?")
    await slack.wait_for_session_status(channel=OPS, thread_ts=thread, status="processing")
    limited = slack.inject_fault(
        method="agents.sessions.setStatus", error="ratelimited", status=429, retry_after=0,
        count=None,
    )  # fmt: skip
    await until(lambda: len(final_replies(slack, thread)) == 1, timeout=10)
    await bot.engine.idle()
    assert bot.live is not None
    await bot.live.settle()
    assert session_status(slack, thread) == "processing"
    slack.remove_fault(limited)
    await slack.wait_for_session_status(channel=OPS, thread_ts=thread, status="active", timeout=20)


async def test_a_stop_with_nothing_running_takes_the_stop_button_away(
    slack: LocalSlack, start: Start, anthropic_api: FakeAnthropic
) -> None:
    bot, thread, failing = await left_processing(slack, start, anthropic_api)
    slack.remove_fault(failing)
    assert bot.live is not None
    # The person sees a stop button and uses it: signoff says nothing runs, and (as
    # Slack's agent_session_stopped docs ask of the app) moves the session off processing.
    await slack.stop_agent_session(user="U0ALICE", channel=OPS, thread_ts=thread)
    await bot_reply(slack, thread, "nothing was running")
    await bot.engine.idle()
    await bot.live.settle()
    assert session_status(slack, thread) != "processing"


async def test_a_decision_from_a_terminal_does_not_leave_the_session_suspended(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    thread = await mention(slack, "restart api")
    approval = approval_id_of(await wait_card(slack, thread))
    await slack.wait_for_session_status(channel=OPS, thread_ts=thread, status="suspended")
    await bot.engine.idle()
    done = await asyncio.to_thread(
        cli, settings.home, "approve", approval, "--as", "U0BOB", frozen="2026-11-02 09:00:05"
    )
    ok(done)
    await bot_reply(slack, thread, "restart_service` finished", timeout=15)
    # The thread's work is over (the session that continued it completed): nothing waits.
    await slack.wait_for_session_status(channel=OPS, thread_ts=thread, status="active", timeout=10)


async def test_a_status_the_last_process_could_not_set_is_set_by_the_next(
    slack: LocalSlack, start: Start, anthropic_api: FakeAnthropic
) -> None:
    """The call that ends a session never took effect (Slack failing, or a kill just
    after the session ended): the next bot sets what the thread's records say."""
    bot, thread, failing = await left_processing(slack, start, anthropic_api)
    await bot.stop(grace=5)
    await until(lambda: not slack.sockets(), what="the old bot's socket to close")
    slack.remove_fault(failing)  # Slack answers again only once the old bot has gone
    await start()
    await slack.wait_for_session_status(channel=OPS, thread_ts=thread, status="active")


async def test_a_stream_the_last_process_left_does_not_undo_the_wait_the_next_one_sets(
    slack: LocalSlack, start: Start, anthropic_api: FakeAnthropic
) -> None:
    """The last bot streamed the text before a card and parked, but never finalized that
    reply (chat.stopStream failing until it stopped). The next bot sets the thread's
    session to ``suspended`` at start-up and finalizes the stream, once Slack lets it:
    chat.stopStream moves the session too (to ``active`` unless told), and the thread still
    waits for the decision."""
    anthropic_api.reply(
        "I will restart the api service once someone approves it.",
        ToolUse("restart_service", {"service": "api"}, id="toolu_01R"),
        chunk_delay=0.05,
    )
    bot = await start()
    failing = slack.inject_fault(
        method="chat.stopStream", error="internal_error", status=500, count=None
    )
    thread = await mention(slack, "restart api")
    await slack.wait_for_session_status(channel=OPS, thread_ts=thread, status="suspended")
    await bot.engine.idle()
    assert bot.live is not None
    await bot.live.settle()
    await bot.stop(grace=5)
    slack.remove_fault(failing)
    await until(lambda: not slack.sockets(), what="the old bot's socket to close")
    # The new bot's first finalize fails too: its retry comes after the start-up status.
    slack.inject_fault(method="chat.stopStream", error="internal_error", status=500)
    fresh = await start()
    await wait_card(slack, thread, timeout=15)
    await fresh.engine.idle()
    assert fresh.live is not None
    await fresh.live.settle()
    assert session_status(slack, thread) == "suspended"
