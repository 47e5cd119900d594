"""A Slack Web API attempt that fails names the channel and thread it was about: the
``slack_api_error`` and ``slack_ratelimited`` log lines carried only the method and the
error, so an operator could not tell which conversation a ``channel_not_found`` or a run
of 429s concerned (issue 11: every line carries the ids involved)."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError

from agent_core.observe import RecordingObserver, SlackApiCall
from bot.web_clients import web_client
from localslack import LocalSlack


async def test_a_failed_attempt_names_its_channel_and_thread(slack: LocalSlack) -> None:
    observer = RecordingObserver()
    client = web_client(slack.bot_token, slack.api_url, observer=observer, retries=False)
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel="C0NOWHERE", thread_ts="1700000000.000100", text="hi")
    with pytest.raises(SlackApiError):  # a form-encoded call names them too
        await client.api_call(
            "chat.update", data={"channel": "C0ELSE", "ts": "1700000000.000200", "text": "x"}
        )
    with pytest.raises(SlackApiError):  # and a method that names them channel_id
        await client.agents_sessions_setStatus(
            channel_id="C0AGENT", thread_ts="1700000000.000300", status="processing"
        )
    await client.auth_test()  # a call about no conversation names none

    calls = [e for e in observer.events if isinstance(e, SlackApiCall)]
    assert [(c.method, c.outcome, c.channel, c.thread_ts, c.ts) for c in calls] == [
        ("chat.postMessage", "error", "C0NOWHERE", "1700000000.000100", ""),
        ("chat.update", "error", "C0ELSE", "", "1700000000.000200"),
        ("agents.sessions.setStatus", "error", "C0AGENT", "1700000000.000300", ""),
        ("auth.test", "ok", "", "", ""),
    ]
