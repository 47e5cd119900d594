"""A streamed reply whose delivery Slack refused for good before it reached the stream
(the channel deleted, the bot removed from it) leaves nothing of it behind; and one damaged
outbox result does not stop the stream sweep for every other stream.

Delivery finishes a reply's stream; one whose finish got no answer is delivered again by
reading the thread first, and when Slack then refuses the thread for good the delivery
gives up there. Before, the stream stayed among the process's live streams, and its
journal record on disk with it (the sweep passed it over as still streaming): one more of
each for every such reply, for as long as the bot ran. Now the sweep drops it, as it
drops a dead process's stream whose reply's delivery has ended.

The sweep reads how each stream's reply ended from its thread's ``outbox.jsonl``. A record
there that no longer parses (a disk fault, a hand edit) raised out of the sweep, every pass:
the bot logged a traceback every few seconds and took no stream away any more, in any
thread. Now that stream is left as it is, named once in a warning, and the rest are swept.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from live_kit import FakeAnthropic, anthropic_api, anthropic_bot, slack
from signoff_e2e_kit import OPS, mention, until
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import SignoffBot
from bot.config import Settings
from bot.live_streams import LiveStreams
from bot.stream_journal import StreamRecord
from localslack import LocalSlack
from sessions import Home, ThreadKey, append_line

__all__ = ["anthropic_api", "slack"]

ANSWER = "All four services are healthy: api, web, worker and db answer within 120 ms. " * 3
Start = Callable[..., Awaitable[SignoffBot]]


@pytest.fixture
def start(
    monkeypatch: pytest.MonkeyPatch, anthropic_api: FakeAnthropic, start_bot: Callable[..., Any]
) -> Start:
    return anthropic_bot(monkeypatch, anthropic_api, start_bot)


async def delivery_given_up(
    slack: LocalSlack,
    start: Start,
    anthropic_api: FakeAnthropic,
    caplog: pytest.LogCaptureFixture,
    error: str,
) -> LiveStreams:
    """A running bot's streams, one of them a reply whose delivery gave up: the stream's
    finish got no answer, so delivery read the thread before it tried again, and by then
    Slack refused everything about the channel with ``error``."""
    anthropic_api.reply(ANSWER, chunk_delay=0.05)
    bot = await start()
    thread = await mention(slack, "how is everything?")
    await slack.wait_for_stream(channel=OPS, thread_ts=thread, state="streaming")
    slack.inject_fault(method="chat.stopStream", drop_connection=True)
    for method in ("conversations.replies", "chat.stopStream", "chat.update", "chat.delete"):
        slack.inject_fault(method=method, error=error, count=None)
    await until(lambda: "gave up on reply-" in caplog.text, what="delivery giving up")
    await bot.engine.idle()
    assert bot.live is not None
    return bot.live.streams


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel"])
async def test_a_stream_whose_reply_slack_refused_for_good_is_dropped(
    slack: LocalSlack,
    start: Start,
    anthropic_api: FakeAnthropic,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    error: str,
) -> None:
    streams = await delivery_given_up(slack, start, anthropic_api, caplog, error)
    journal = settings.home / "live" / "streams"
    assert list(journal.glob("*.json"))  # still listed: the sweep is what drops it

    await streams.sweep()  # what the bot's periodic sweep runs
    assert not list(journal.glob("*.json"))
    assert not streams._live  # nothing held for it in memory either


async def dead_stream(slack: LocalSlack, thread: ThreadKey, entry_id: str) -> StreamRecord:
    """A stream a process that died started, as its journal shows it."""
    web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    started = await web.chat_startStream(
        channel=OPS, thread_ts=thread.thread_ts, markdown_text="Half an ans",
        recipient_user_id="U0ALICE", recipient_team_id=thread.team,
    )  # fmt: skip
    return StreamRecord(
        entry_id=entry_id, thread=thread, session_id="sess_0123456789ab",
        ts=str(started["ts"]), started_at="2026-11-02T09:00:00.000Z", owner="a-dead-process",
    )  # fmt: skip


async def test_a_damaged_outbox_result_skips_its_stream_and_the_rest_are_swept(
    slack: LocalSlack,
    start: Start,
    anthropic_api: FakeAnthropic,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # This process's stream whose reply's delivery gave up (Slack refused the thread).
    streams = await delivery_given_up(slack, start, anthropic_api, caplog, "channel_not_found")
    slack.clear_faults()
    [own] = list(streams._live)
    thread = streams.journal.get(own).thread  # type: ignore[union-attr]

    # Its result record damaged on disk (still JSON with its id, no longer a result); a
    # dead process's stream whose result is damaged too; and one whose reply never came.
    log_file = Home(settings.home).thread_dir(thread) / "outbox.jsonl"
    raw = log_file.read_bytes()
    assert raw.count(b'"outcome":"failed"') == 1
    log_file.write_bytes(raw.replace(b'"outcome":"failed"', b'"outcome":"FAILED"'))
    append_line(log_file, '{"id": "reply-sess_0123456789ab-m4", "outcome": "sent"}')
    damaged = await dead_stream(slack, thread, "reply-sess_0123456789ab-m4")
    orphan = await dead_stream(slack, thread, "reply-sess_0123456789ab-m5")
    streams.journal.put(damaged)
    streams.journal.put(orphan)

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="signoff.slack"):
        assert await streams.sweep() == 1  # the orphan, taken away
        assert await streams.sweep() == 0  # the damaged two stay, not named again
    assert slack.message(channel=OPS, ts=orphan.ts) is None
    assert slack.message(channel=OPS, ts=damaged.ts) is not None
    assert {r.entry_id for r in streams.journal.all()} == {own, damaged.entry_id}
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 2, warnings
    assert sum(own in w for w in warnings) == 1
    assert sum(damaged.entry_id in w for w in warnings) == 1
