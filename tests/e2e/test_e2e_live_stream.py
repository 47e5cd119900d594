"""A reply streamed from the model (the fake Anthropic API, streaming through the SDK) into
the thread through the real Bolt app and slack_sdk, ending as exactly one message that
carries its outbox metadata, whatever breaks on the way (a Slack that hangs too)."""

from __future__ import annotations

import json
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
    metadata_of,
    slack,
)
from signoff_e2e_kit import OPS, bot_messages, mention, session_states, until

from bot.app import SignoffBot
from bot.config import Settings
from localslack import LocalSlack

__all__ = ["anthropic_api", "slack"]

ANSWER = (
    "All four services are **healthy**: api, web, worker and db answer within 120 ms, "
    "and nothing was restarted in the last day."
)
Start = Callable[..., Awaitable[SignoffBot]]


@pytest.fixture
def start(
    monkeypatch: pytest.MonkeyPatch, anthropic_api: FakeAnthropic, start_bot: Callable[..., Any]
) -> Start:
    return anthropic_bot(monkeypatch, anthropic_api, start_bot)


def transcript_texts(home: Path) -> list[str]:
    texts = []
    for path in sorted((home / "sessions").glob("*/*/transcript.jsonl")):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            if record.get("role") == "assistant" and record.get("text"):
                texts.append(record["text"])
    return texts


async def test_a_streamed_reply_ends_as_one_message_with_its_metadata(
    slack: LocalSlack, start: Start, anthropic_api: FakeAnthropic, settings: Settings
) -> None:
    anthropic_api.reply(ANSWER, chunk_delay=0.03)
    bot = await start()
    thread = await mention(slack, "how is everything?")

    growing = await slack.wait_for_stream(channel=OPS, thread_ts=thread, state="streaming")
    assert 0 < len(growing["text"]) < len(ANSWER)  # shown while the model still writes
    stream = await slack.wait_for_stream(channel=OPS, thread_ts=thread, state="stopped")
    await bot.engine.idle()

    [reply] = bot_messages(slack, thread)
    assert reply["ts"] == stream["ts"] and reply["text"] == ANSWER
    session = next(iter(session_states(settings.home)))
    assert metadata_of(reply) == {"entry": f"reply-{session}-m1", "part": 0}
    methods = [c["method"] for c in stream["calls"]]
    assert methods[0] == "chat.startStream" and methods[-1] == "chat.stopStream"
    assert "chat.appendStream" in methods
    assert stream["recipient_user_id"] == "U0ALICE" and stream["stopped_by"] == "app"
    assert not slack.calls("chat.postMessage")  # finalized, not posted again
    # The model-facing transcript keeps the same text as without streaming.
    assert transcript_texts(settings.home) == [ANSWER]


async def test_tool_calls_are_task_steps_of_the_reply_that_asked_for_them(
    slack: LocalSlack, start: Start, anthropic_api: FakeAnthropic
) -> None:
    anthropic_api.reply(
        "Let me look at the api service first, then I will tell you.",
        ToolUse("service_status", {"service": "api"}, id="toolu_01S"),
        chunk_delay=0.05,
    )
    anthropic_api.reply("The api is healthy.", chunk_delay=0.05)
    bot = await start()
    thread = await mention(slack, "is api ok?")
    await until(lambda: len(final_replies(slack, thread)) == 2, timeout=10)
    await bot.engine.idle()

    first, second = sorted(slack.streams(channel=OPS), key=lambda r: r["ts"])
    assert first["text"].startswith("Let me look") and second["text"] == "The api is healthy."
    assert [(t["id"], t["title"], t["status"]) for t in first["tasks"]] == [
        ("toolu_01S", "service_status", "complete")
    ]
    statuses_sent = [
        chunk["status"]
        for call in first["calls"]
        for chunk in call["chunks"]
        if chunk["type"] == "task_update"
    ]
    assert statuses_sent[0] == "in_progress" and statuses_sent[-1] == "complete"
    assert [m["ts"] for m in final_replies(slack, thread)] == [first["ts"], second["ts"]]


async def test_a_model_stream_that_breaks_is_retried_and_its_partial_message_goes(
    slack: LocalSlack, start: Start, anthropic_api: FakeAnthropic
) -> None:
    anthropic_api.reply(
        "This first attempt will be cut off midway and", chunk_delay=0.05, break_after=8
    )
    anthropic_api.reply(ANSWER, chunk_delay=0.02)
    # The partial reply is on Slack (a stream) before the retry voids it: a wait as long
    # as production's lets it get there.
    bot = await start(model_retry_scale=1.0)
    thread = await mention(slack, "how is everything?")
    await until(lambda: len(final_replies(slack, thread)) == 1, timeout=15)
    await bot.engine.idle()
    await until(lambda: len(bot_messages(slack, thread)) == 1)

    [reply] = bot_messages(slack, thread)
    assert reply["text"] == ANSWER
    voided = [r for r in slack.streams(channel=OPS) if r["text"].startswith("This first")]
    assert voided and slack.message(channel=OPS, ts=voided[0]["ts"]) is None  # deleted
    assert len(anthropic_api.requests) == 2


async def test_slack_failing_midway_still_leaves_the_whole_reply(
    slack: LocalSlack, start: Start, anthropic_api: FakeAnthropic
) -> None:
    anthropic_api.reply(ANSWER, chunk_delay=0.03)
    bot = await start()
    slack.inject_fault(method="chat.appendStream", error="internal_error", status=500, count=None)
    thread = await mention(slack, "how is everything?")
    await until(lambda: len(final_replies(slack, thread)) == 1, timeout=10)
    await bot.engine.idle()

    [reply] = bot_messages(slack, thread)
    assert reply["text"] == ANSWER  # the final text replaced what the stream showed
    assert slack.calls("chat.update") and not slack.calls("chat.postMessage")


async def test_a_finalize_whose_answer_was_lost_is_adopted_not_repeated(
    slack: LocalSlack, start: Start, anthropic_api: FakeAnthropic
) -> None:
    anthropic_api.reply(ANSWER, chunk_delay=0.03)
    bot = await start()
    slack.inject_fault(method="chat.stopStream", after_commit=True, drop_connection=True)
    thread = await mention(slack, "how is everything?")
    await until(lambda: len(final_replies(slack, thread)) == 1, timeout=10)

    def done() -> list[dict[str, Any]]:
        found = bot.engine.home.root.glob("threads/*/*/*/*/outbox.jsonl")
        lines = [line for path in found for line in path.read_text().splitlines()]
        return [r for line in lines if (r := json.loads(line))["id"].startswith("reply-")]

    # Delivery retries after a pause, looking first: it finds the message and adopts it.
    await until(lambda: bool(done()), timeout=10)
    await bot.engine.idle()
    [reply] = bot_messages(slack, thread)
    assert reply["text"] == ANSWER
    assert slack.calls("conversations.replies")
    assert not slack.calls("chat.postMessage") and not slack.calls("chat.update")
    [record] = done()
    assert (record["outcome"], record["ts"]) == ("adopted", reply["ts"])


async def test_a_start_whose_answer_was_lost_leaves_no_stray_message(
    slack: LocalSlack, start: Start, anthropic_api: FakeAnthropic
) -> None:
    anthropic_api.reply(ANSWER, chunk_delay=0.03)
    bot = await start()
    slack.inject_fault(method="chat.startStream", after_commit=True, drop_connection=True)
    thread = await mention(slack, "how is everything?")
    await until(lambda: len(final_replies(slack, thread)) == 1, timeout=10)
    await bot.engine.idle()
    await until(lambda: len(bot_messages(slack, thread)) == 1, timeout=10)

    [reply] = bot_messages(slack, thread)
    assert reply["text"] == ANSWER and metadata_of(reply)["part"] == 0
    assert len(slack.calls("chat.postMessage")) == 1  # posted, since the stream was lost
    assert [c.ok for c in slack.calls("chat.delete")] == [True]  # the stray start went


async def test_a_model_that_fails_after_streaming_leaves_only_the_apology(
    slack: LocalSlack, start: Start, anthropic_api: FakeAnthropic
) -> None:
    anthropic_api.reply("A start that never finishes, alas", chunk_delay=0.05, break_after=7)
    anthropic_api.error(400, message="messages: the retry is refused")  # not retried again
    # The partial reply is on Slack (a stream) before the retry voids it: a wait as long
    # as production's lets it get there.
    bot = await start(model_retry_scale=1.0)
    thread = await mention(slack, "how is everything?")
    await until(lambda: len(final_replies(slack, thread)) == 1, timeout=15)
    await bot.engine.idle()
    await until(lambda: len(bot_messages(slack, thread)) == 1)
    [reply] = bot_messages(slack, thread)
    assert reply["text"].startswith("I could not get an answer from the model")
    [partial] = slack.streams(channel=OPS)
    assert (
        partial["text"].startswith("A start")
        and slack.message(channel=OPS, ts=partial["ts"]) is None
    )


@pytest.mark.parametrize("after_commit", [False, True])
@pytest.mark.parametrize("method", ["chat.startStream", "chat.appendStream", "chat.stopStream"])
async def test_a_stream_call_slack_never_answers_still_leaves_the_whole_reply_once(
    slack: LocalSlack, start: Start, anthropic_api: FakeAnthropic, method: str, after_commit: bool
) -> None:
    """The call ends at SIGNOFF_SLACK_TIMEOUT_S, landed or not, and what it may have left
    is adopted or taken away."""
    anthropic_api.reply(ANSWER, chunk_delay=0.03)
    bot = await start(slack_timeout_s=1)
    hung = slack.inject_fault(method=method, hang=True, after_commit=after_commit)
    thread = await mention(slack, "how is everything?")
    await until(lambda: len(final_replies(slack, thread)) == 1, timeout=15)
    await bot.engine.idle()
    await until(lambda: len(bot_messages(slack, thread)) == 1, timeout=15)
    [reply] = bot_messages(slack, thread)
    assert reply["text"] == ANSWER
    assert hung.fired == 1
