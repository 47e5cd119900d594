"""A streamed reply whose delivery Slack refused for good before it reached the stream
(the channel deleted, the bot removed from it) leaves nothing of it behind.

Delivery finishes a reply's stream; one whose finish got no answer is delivered again by
reading the thread first, and when Slack then refuses the thread for good the delivery
gives up there. Before, the stream stayed among the process's live streams, and its
journal record on disk with it (the sweep passed it over as still streaming): one more of
each for every such reply, for as long as the bot ran. Now the sweep drops it, as it
drops a dead process's stream whose reply's delivery has ended.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from live_kit import FakeAnthropic, anthropic_api, anthropic_bot, slack
from signoff_e2e_kit import OPS, mention, until

from bot.app import SignoffBot
from bot.config import Settings
from localslack import LocalSlack

__all__ = ["anthropic_api", "slack"]

ANSWER = "All four services are healthy: api, web, worker and db answer within 120 ms. " * 3
Start = Callable[..., Awaitable[SignoffBot]]


@pytest.fixture
def start(
    monkeypatch: pytest.MonkeyPatch, anthropic_api: FakeAnthropic, start_bot: Callable[..., Any]
) -> Start:
    return anthropic_bot(monkeypatch, anthropic_api, start_bot)


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel"])
async def test_a_stream_whose_reply_slack_refused_for_good_is_dropped(
    slack: LocalSlack,
    start: Start,
    anthropic_api: FakeAnthropic,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    error: str,
) -> None:
    anthropic_api.reply(ANSWER, chunk_delay=0.05)
    bot = await start()
    thread = await mention(slack, "how is everything?")
    await slack.wait_for_stream(channel=OPS, thread_ts=thread, state="streaming")
    # The stream's finish gets no answer, so delivery reads the thread before it tries
    # again; by then Slack refuses everything about the channel.
    slack.inject_fault(method="chat.stopStream", drop_connection=True)
    for method in ("conversations.replies", "chat.stopStream", "chat.update", "chat.delete"):
        slack.inject_fault(method=method, error=error, count=None)

    await until(lambda: "gave up on reply-" in caplog.text, what="delivery giving up")
    await bot.engine.idle()
    assert bot.live is not None
    streams = bot.live.streams
    journal = settings.home / "live" / "streams"
    assert list(journal.glob("*.json"))  # still listed: the sweep is what drops it

    await streams.sweep()  # what the bot's periodic sweep runs
    assert not list(journal.glob("*.json"))
    assert not streams._live  # nothing held for it in memory either
