"""A workspace that lacks one of the AI-app surfaces: signoff asks once, falls back to what
it did before (the 👀 reaction, plain posts, no stop button), remembers it for as long as
it runs and says so once in the log."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from live_kit import (
    FakeAnthropic,
    anthropic_api,
    anthropic_bot,
    final_replies,
    metadata_of,
    slack,
)
from signoff_e2e_kit import OPS, bot_messages, bot_reply, mention, until

from bot.app import SignoffBot
from localslack import SURFACE_ERRORS, ControlError, LocalSlack, SurfaceError

if TYPE_CHECKING:
    from conftest import BotFactory

__all__ = ["anthropic_api", "slack"]

ANSWER = "Everything is fine: api, web, worker and db all answer within their targets today."


def lacking_lines(caplog: pytest.LogCaptureFixture, method: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "signoff.slack" and f"answered {method} with" in r.getMessage()
    ]


def reactions_on(slack: LocalSlack, ts: str) -> list[str]:
    message = slack.message(channel=OPS, ts=ts) or {}
    return [r["name"] for r in message.get("reactions", [])]


@pytest.mark.parametrize("error", SURFACE_ERRORS)
async def test_without_the_status_line_the_message_gets_the_reaction(
    slack: LocalSlack, bot: SignoffBot, caplog: pytest.LogCaptureFixture, error: Any
) -> None:
    caplog.set_level(logging.WARNING, logger="signoff.slack")
    slack.lack_surface(method="assistant.threads.setStatus", error=error)
    first = await mention(slack, "status of api")
    await bot_reply(slack, first, "service=api,")
    await until(lambda: reactions_on(slack, first) == ["eyes"])
    second = await mention(slack, "status of web")
    await bot_reply(slack, second, "service=web,")
    await until(lambda: reactions_on(slack, second) == ["eyes"])
    await bot.engine.idle()

    # Asked once, then remembered: the second thread never tried the status line.
    assert len(slack.calls("assistant.threads.setStatus")) == 1
    assert slack.status_history(channel=OPS) == []
    [line] = lacking_lines(caplog, "assistant.threads.setStatus")
    assert error in line and "👀" in line
    # The agent session still works: it is another surface.
    assert slack.agent_session(channel=OPS, thread_ts=first) is not None


async def test_without_agent_sessions_there_is_no_stop_button_and_the_rest_works(
    slack: LocalSlack, bot: SignoffBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="signoff.slack")
    # As for an app not declared as an agent: no assistant:write.
    slack.lack_surface(method="agents.sessions.setStatus", error="missing_scope")
    first = await mention(slack, "status of api")
    await bot_reply(slack, first, "service=api,")
    second = await mention(slack, "restart web")
    await bot_reply(slack, second, "Approval needed")
    await bot.engine.idle()

    assert len(slack.calls("agents.sessions.setStatus")) == 1
    assert slack.agent_sessions() == []
    with pytest.raises(ControlError, match="no_agent_session"):
        await slack.stop_agent_session(user="U0ALICE", channel=OPS, thread_ts=second)
    [line] = lacking_lines(caplog, "agents.sessions.setStatus")
    assert "missing_scope" in line and "no stop button" in line
    # The status line is another surface: it still shows the work.
    assert slack.status_history(channel=OPS, thread_ts=first)[0]["status"] == ("is thinking…")
    assert not slack.calls("reactions.add")


async def _two_replies_lacking(
    slack: LocalSlack,
    monkeypatch: pytest.MonkeyPatch,
    anthropic_api: FakeAnthropic,
    start_bot: Callable[..., Any],
    *,
    answer: str,
    chunk_delay: float,
    method: str,
    error: SurfaceError,
) -> tuple[str, str]:
    """Two threads asked one after the other of a bot whose workspace answers ``method``
    with ``error``; each gets ``answer`` as one whole reply. The two threads."""
    for _ in range(2):
        anthropic_api.reply(answer, chunk_delay=chunk_delay)
    bot = await anthropic_bot(monkeypatch, anthropic_api, start_bot)()
    slack.lack_surface(method=method, error=error)
    first = await mention(slack, "how is everything?")
    await until(lambda: len(final_replies(slack, first)) == 1, timeout=10)
    second = await mention(slack, "and now?")
    await until(lambda: len(final_replies(slack, second)) == 1, timeout=10)
    await bot.engine.idle()
    for thread in (first, second):
        [reply] = bot_messages(slack, thread)
        assert reply["text"] == answer and metadata_of(reply)["part"] == 0
    return first, second


async def test_without_streams_replies_are_posted_whole(
    slack: LocalSlack,
    monkeypatch: pytest.MonkeyPatch,
    anthropic_api: FakeAnthropic,
    start_bot: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="signoff.slack")
    first, _ = await _two_replies_lacking(
        slack,
        monkeypatch,
        anthropic_api,
        start_bot,
        answer=ANSWER,
        chunk_delay=0.03,
        method="chat.startStream",
        error="feature_not_enabled",
    )
    assert len(slack.calls("chat.startStream")) == 1
    assert len(slack.calls("chat.postMessage")) == 2
    assert slack.streams() == []
    [line] = lacking_lines(caplog, "chat.startStream")
    assert "feature_not_enabled" in line


async def test_the_reaction_of_a_message_being_stored_lands_from_the_socket_thread(
    slack: LocalSlack, bot: SignoffBot, caplog: pytest.LogCaptureFixture
) -> None:
    """Once the status line is known to be lacking, the reaction is added as a message is
    stored, on the socket thread's loop: with the surface's kept-alive client (the main
    loop's) every such reaction failed ("Timeout context manager should be used inside a
    task") and only the turn's own reaction, later, showed the message taken."""
    caplog.set_level(logging.INFO, logger="signoff.slack")
    slack.lack_surface(method="assistant.threads.setStatus", error="not_allowed_token_type")
    first = await mention(slack, "status of api")
    await bot_reply(slack, first, "service=api,")  # the lack is known from here on
    second = await mention(slack, "status of web")
    await bot_reply(slack, second, "service=web,")
    await bot.engine.idle()
    assert reactions_on(slack, second) == ["eyes"]
    assert not [r.getMessage() for r in caplog.records if "could not react" in r.getMessage()]


async def test_a_restart_asks_a_workspace_without_agent_sessions_a_few_times_not_once_a_thread(
    slack: LocalSlack, start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """At start-up the agent session of each recent thread is shown as its records say;
    a workspace that lacks the surface answers the first calls, and those queued behind
    them are never sent (they were all sent at once: a call and a warning per thread)."""
    first = await start_bot()
    threads = [await mention(slack, f"how is api? ({n})") for n in range(12)]
    for thread in threads:
        await bot_reply(slack, thread, "api")
    await first.engine.idle()
    await first.stop()
    slack.lack_surface(method="agents.sessions.setStatus", error="missing_scope")
    slack.clear_calls()
    caplog.set_level(logging.WARNING)
    again = await start_bot()
    live = again.live
    assert live is not None
    await until(lambda: not live.support.offers("sessions"))
    await live.settle()
    asked = len(slack.calls("agents.sessions.setStatus"))
    assert 1 <= asked <= 4, asked
    lines = [
        r.getMessage() for r in caplog.records if "agents.sessions.setStatus" in str(r.__dict__)
    ]
    assert len(lines) <= 2 * asked, lines


@pytest.mark.parametrize("method", ["chat.appendStream", "chat.stopStream"])
async def test_a_stream_method_lacking_after_the_start_leaves_the_whole_reply_and_is_remembered(
    slack: LocalSlack,
    monkeypatch: pytest.MonkeyPatch,
    anthropic_api: FakeAnthropic,
    start_bot: Callable[..., Any],
    method: str,
) -> None:
    """Where only a later stream method is lacking (the start was answered), the reply is
    still delivered whole, once, and streams are off from then on. A lacking stopStream
    made the reply's delivery retry for ever (``unknown_method`` is not a permanent
    error): the thread kept the half-finished stream and never got the reply."""
    long_answer = " ".join(f"{ANSWER} ({n})" for n in range(4))
    await _two_replies_lacking(
        slack,
        monkeypatch,
        anthropic_api,
        start_bot,
        answer=long_answer,
        chunk_delay=0.02,
        method=method,
        error="unknown_method",
    )
    assert len(slack.calls("chat.startStream")) == 1  # the second reply is posted whole
    [stream] = slack.streams()
    shown = slack.message(channel=OPS, ts=stream["ts"])
    assert shown is not None and shown["text"] == long_answer
