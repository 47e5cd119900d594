"""A post that tells a person something (a listener's apology) is not retried after a
5xx: the app's client retries 5xx and dropped connections, which suits reads, but a post
Slack stored before it failed was then posted again, and the person told twice
(``bot/web_clients.py`` says why posts are never retried so). ``posting`` is the same
client, connections and observer, retried only on a 429, which never lands."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError

from agent_core.observe import RecordingObserver, SlackApiCall
from bot.slack_calls import posting
from bot.web_clients import web_client
from localslack import LocalSlack

CHANNEL = "C0GENERAL"


def _posted(slack: LocalSlack, text: str) -> int:
    return sum(m.get("text") == text for m in slack.messages(channel=CHANNEL))


async def test_a_post_slack_stored_before_failing_is_not_posted_again(slack: LocalSlack) -> None:
    observer = RecordingObserver()
    client = web_client(slack.bot_token, slack.api_url, observer=observer)
    slack.inject_fault(method="chat.postMessage", status=500, after_commit=True, count=1)
    with pytest.raises(SlackApiError):
        await posting(client).chat_postMessage(channel=CHANNEL, text="sorry once")
    assert _posted(slack, "sorry once") == 1
    # Its attempt is still reported, as the app client's are.
    calls = [e for e in observer.events if isinstance(e, SlackApiCall)]
    assert [(c.method, c.outcome) for c in calls] == [("chat.postMessage", "error")]

    # The app's own client, for contrast: the same fault shows the text twice.
    slack.inject_fault(method="chat.postMessage", status=500, after_commit=True, count=1)
    await client.chat_postMessage(channel=CHANNEL, text="sorry twice")
    assert _posted(slack, "sorry twice") == 2


async def test_a_post_slack_rate_limited_is_tried_again(slack: LocalSlack) -> None:
    client = web_client(slack.bot_token, slack.api_url)
    slack.inject_fault(method="chat.postMessage", error="ratelimited", status=429, retry_after=0)
    await posting(client).chat_postMessage(channel=CHANNEL, text="after the wait")
    assert _posted(slack, "after the wait") == 1
