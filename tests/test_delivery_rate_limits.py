"""A reply Slack asks to wait for halfway, against LocalSlack through slack_sdk.

A 429 is no sign that anything landed, so its retry did not look in the thread first. But
a reply is several writes: the parts of a long answer (Slack takes about one message a
second in a channel, after a short burst), or its start and then its file. A 429 on a
later one was retried from the start, and what had landed was posted again, every retry
adding copies. Once the reply's start is in the thread, the retry looks first.
"""

from __future__ import annotations

import logging

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from test_delivery_files_fallback import UPLOAD, deliver, long_answer, texts

from agent_core.backoff import Backoff
from bot.reply_parts import MAX_PARTS, split_message
from bot.slack_surface import SlackSurface
from localslack import LocalSlack
from sessions import Home


async def test_parts_slack_asks_to_wait_for_go_out_after_the_wait_and_none_twice(
    slack: LocalSlack, home: Home
) -> None:
    slack.set_rate_limits(enabled=True)
    web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    answer = long_answer(40)
    parts = split_message(answer)
    assert 3 < len(parts) <= MAX_PARTS  # one more than the burst, and not attached
    thread = await deliver(slack, home, SlackSurface(web), answer, "m1")
    assert "ratelimited" in [c.error for c in slack.calls("chat.postMessage")]
    assert texts(slack, thread) == parts


async def test_an_upload_slack_asks_to_wait_for_does_not_post_the_start_again(
    slack: LocalSlack, home: Home
) -> None:
    slack.inject_fault(method=UPLOAD, status=429, error="ratelimited", retry_after=0)
    web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    thread = await deliver(slack, home, SlackSurface(web), long_answer(), "m1")
    start, attached = texts(slack, thread)  # the start, once; the file's own message
    assert start.endswith("(the full answer is attached)") and not attached
    assert [c.error for c in slack.calls(UPLOAD)] == ["ratelimited", None]
    assert len(slack.files()) == 1


async def test_waits_slack_asked_for_do_not_lengthen_the_backoff_of_a_failure_after_them(
    slack: LocalSlack, home: Home, caplog: pytest.LogCaptureFixture
) -> None:
    """A 429 says when to come back, and is waited out as asked; counted as a failure, a
    burst of them made the next real failure (a hung call) wait the backoff's maximum, a
    minute in which a card nobody could see waited for nothing (chaos seed 31337)."""
    caplog.set_level(logging.INFO, logger="signoff.delivery")
    for _ in range(6):
        slack.inject_fault(method="chat.postMessage", status=429, retry_after=0)
    slack.inject_fault(method="chat.postMessage", error="internal_error")
    web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    backoff = Backoff(initial=0.05, maximum=60.0)
    thread = await deliver(slack, home, SlackSurface(web), "the answer", "m1", backoff=backoff)
    assert texts(slack, thread) == ["the answer"]
    retries = [r.getMessage() for r in caplog.records if r.getMessage().startswith("will retry")]
    assert len(retries) == 7, retries
    assert all("Slack asked to wait" in line for line in retries[:6]), retries
    assert retries[6].endswith("in 0.1s (attempt 1): internal_error"), retries
