"""A reply Slack asks to wait for halfway, against LocalSlack through slack_sdk.

A 429 is no sign that anything landed, so its retry did not look in the thread first. But
a reply is several writes: the parts of a long answer (Slack takes about one message a
second in a channel, after a short burst), or its start and then its file. A 429 on a
later one was retried from the start, and what had landed was posted again, every retry
adding copies. Once the reply's start is in the thread, the retry looks first.
"""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient
from test_delivery_files_fallback import UPLOAD, deliver, long_answer, texts

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
