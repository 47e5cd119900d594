"""AI-app status in threads: assistant.threads.setStatus and agents.sessions.setStatus, through
slack_sdk's AsyncWebClient (and Bolt for the stop button's event)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from localslack import ControlError, LocalSlack, WorkspaceConfig

OPS = "C0OPS"
AGENT_SCOPES = (*WorkspaceConfig().scopes, "assistant:write")


async def expect_error(call: Any, code: str) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as info:
        await call
    assert info.value.response["error"] == code, info.value.response
    return dict(info.value.response.data)


async def test_status_set_cleared_by_empty_and_by_a_reply(
    slack: LocalSlack, web: AsyncWebClient
) -> None:
    ask = await slack.post_message(channel=OPS, user="U0ALICE", text="<@U0SIGNOFF> restart api")
    await web.assistant_threads_setStatus(
        channel_id=OPS, thread_ts=ask, status="is thinking…", loading_messages=["Reading logs"]
    )
    shown = slack.thread_status(channel=OPS, thread_ts=ask)
    assert shown is not None
    assert shown["shown_as"] == "signoff is thinking…"
    assert shown["loading_messages"] == ["Reading logs"]

    await web.assistant_threads_setStatus(channel_id=OPS, thread_ts=ask, status="")
    assert slack.thread_status(channel=OPS, thread_ts=ask) is None

    await web.assistant_threads_setStatus(channel_id=OPS, thread_ts=ask, status="is working…")
    reply = await web.chat_postMessage(channel=OPS, thread_ts=ask, text="done")
    assert slack.thread_status(channel=OPS, thread_ts=ask) is None
    # A reply's ts names the same thread.
    await web.assistant_threads_setStatus(channel_id=OPS, thread_ts=reply["ts"], status="is at it")
    assert slack.thread_status(channel=OPS, thread_ts=ask) is not None

    history = [(c["status"], c["cause"]) for c in slack.status_history(channel=OPS, thread_ts=ask)]
    assert history == [
        ("is thinking…", "set"),
        ("", "cleared"),
        ("is working…", "set"),
        ("", "reply"),
        ("is at it", "set"),
    ]
    waited = await slack.wait_for_status(channel=OPS, thread_ts=ask, cause="reply")
    assert waited["status"] == ""


async def test_status_times_out_after_two_minutes_of_silence(config: WorkspaceConfig) -> None:
    now = [1_800_000_000.0]
    async with LocalSlack(config, clock=lambda: now[0]) as slack:
        web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        ask = await slack.post_message(channel=OPS, user="U0BOB", text="hello")
        await web.assistant_threads_setStatus(channel_id=OPS, thread_ts=ask, status="is typing")
        now[0] += 119
        assert slack.thread_status(channel=OPS, thread_ts=ask) is not None
        now[0] += 1
        assert slack.thread_status(channel=OPS, thread_ts=ask) is None
        [_, timed_out] = slack.status_history(channel=OPS, thread_ts=ask)
        assert timed_out["cause"] == "timeout"
        assert timed_out["at"] == 1_800_000_000.0 + 120


async def test_status_errors(
    slack: LocalSlack, web: AsyncWebClient, config: WorkspaceConfig
) -> None:
    ask = await slack.post_message(channel=OPS, user="U0ALICE", text="hi")
    await expect_error(
        web.assistant_threads_setStatus(channel_id=OPS, thread_ts="1.000001", status="x"),
        "invalid_thread_ts",
    )
    await expect_error(
        web.assistant_threads_setStatus(channel_id="C0NOPE", thread_ts=ask, status="x"),
        "channel_not_found",
    )
    random_ts = await slack.post_message(channel="C0RANDOM", user="U0ALICE", text="hi")
    await expect_error(
        web.assistant_threads_setStatus(channel_id="C0RANDOM", thread_ts=random_ts, status="x"),
        "not_in_channel",
    )
    body = await expect_error(
        web.assistant_threads_setStatus(
            channel_id=OPS, thread_ts=ask, status="x", loading_messages=["m"] * 11
        ),
        "invalid_arguments",
    )
    assert "10" in body["response_metadata"]["messages"][0]

    no_chat = tuple(s for s in config.scopes if s != "chat:write")
    async with LocalSlack(dataclasses.replace(config, scopes=no_chat)) as bare:
        client = AsyncWebClient(token=bare.bot_token, base_url=bare.api_url)
        ts = await bare.post_message(channel=OPS, user="U0ALICE", text="hi")
        body = await expect_error(
            client.assistant_threads_setStatus(channel_id=OPS, thread_ts=ts, status="x"),
            "missing_scope",
        )
        assert body["needed"] == "chat:write"
        assert "chat:write" not in body["provided"].split(",")


async def test_agent_sessions_need_an_agent_app(slack: LocalSlack, web: AsyncWebClient) -> None:
    ask = await slack.post_message(channel=OPS, user="U0ALICE", text="hi")
    body = await expect_error(
        web.agents_sessions_setStatus(channel_id=OPS, thread_ts=ask, status="processing"),
        "missing_scope",
    )
    assert body["needed"] == "assistant:write"


async def test_agent_session_lifecycle_and_the_stop_warning(config: WorkspaceConfig) -> None:
    async with LocalSlack(dataclasses.replace(config, scopes=AGENT_SCOPES)) as slack:
        web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        ask = await slack.post_message(channel=OPS, user="U0ALICE", text="<@U0SIGNOFF> go")
        started = await web.agents_sessions_setStatus(
            channel_id=OPS,
            thread_ts=ask,
            status="processing",
            title="Restart api",
            initiator_user_id="U0ALICE",
        )
        assert (started["status"], started["agent_status"]) == ("processing", "processing")
        assert started["title"] == "Restart api"
        assert started["warning"] == "missing_agent_session_stopped_event_subscription"
        # Title counts only when the session is created.
        later = await web.agents_sessions_setStatus(
            channel_id=OPS, thread_ts=ask, status="active", title="ignored"
        )
        assert later["title"] == "Restart api"
        assert "warning" not in later.data
        session = slack.agent_session(channel=OPS, thread_ts=ask)
        assert session is not None
        assert [h["status"] for h in session["history"]] == ["processing", "active"]
        assert session["initiator_user_id"] == "U0ALICE"
        await slack.wait_for_session_status(channel=OPS, thread_ts=ask, status="processing")

        await expect_error(
            web.agents_sessions_setStatus(channel_id=OPS, thread_ts=ask, status="busy"),
            "invalid_arguments",
        )
        await expect_error(
            web.agents_sessions_setStatus(channel_id=OPS, status="active"), "invalid_arguments"
        )
        await expect_error(
            web.agents_sessions_setStatus(
                channel_id=OPS, thread_ts=ask, status="active", icon_emoji=":robot_face:"
            ),
            "missing_scope",
        )
        # Without the subscription Slack shows no stop button.
        await web.agents_sessions_setStatus(channel_id=OPS, thread_ts=ask, status="processing")
        with pytest.raises(ControlError) as info:
            await slack.stop_agent_session(user="U0ALICE", channel=OPS, thread_ts=ask)
        assert info.value.code == "no_stop_button"


async def test_stop_button_stops_streams_and_tells_the_app(config: WorkspaceConfig) -> None:
    events = (*config.subscribed_events, "agent_session_stopped")
    agent = dataclasses.replace(config, scopes=AGENT_SCOPES, subscribed_events=events)
    async with LocalSlack(agent) as slack:
        web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        ask = await slack.post_message(channel=OPS, user="U0BOB", text="<@U0SIGNOFF> long job")
        quiet = await web.agents_sessions_setStatus(
            channel_id=OPS, thread_ts=ask, status="processing"
        )
        assert "warning" not in quiet.data
        stream = await web.chat_startStream(
            channel=OPS,
            thread_ts=ask,
            markdown_text="Working",
            recipient_user_id="U0BOB",
            recipient_team_id="T0LOCAL",
        )
        delivery = await slack.stop_agent_session(user="U0BOB", channel=OPS, thread_ts=ask)
        assert delivery is not None
        event = delivery.payload["event"]
        assert event["type"] == "agent_session_stopped"
        assert (event["user"], event["channel"], event["thread_ts"]) == ("U0BOB", OPS, ask)
        assert event["streaming_message_ts"] == [stream["ts"]]
        record = slack.stream(channel=OPS, ts=stream["ts"])
        assert record is not None and record["stopped_by"] == "user"
        await expect_error(
            web.chat_appendStream(channel=OPS, ts=stream["ts"], markdown_text="more"),
            "message_not_in_streaming_state",
        )
        # The session stays processing until the app moves it.
        session = slack.agent_session(channel=OPS, thread_ts=ask)
        assert session is not None and session["status"] == "processing"
        assert session["stop_clicks"][0]["user"] == "U0BOB"


async def test_a_stream_a_person_stopped_is_ended_once_by_the_app(config: WorkspaceConfig) -> None:
    """Slack's reference has the app move the session on "using either
    agents.sessions.setStatus or chat.stopStream" after the stop: the stream grows no more,
    but the app still ends it, with its steps' last states."""
    events = (*config.subscribed_events, "agent_session_stopped")
    agent = dataclasses.replace(config, scopes=AGENT_SCOPES, subscribed_events=events)
    async with LocalSlack(agent) as slack:
        web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        ask = await slack.post_message(channel=OPS, user="U0BOB", text="<@U0SIGNOFF> long job")
        await web.agents_sessions_setStatus(channel_id=OPS, thread_ts=ask, status="processing")
        step = {"type": "task_update", "id": "t1", "title": "check"}
        stream = await web.chat_startStream(
            channel=OPS,
            thread_ts=ask,
            markdown_text="Working",
            chunks=[{**step, "status": "in_progress"}],
            recipient_user_id="U0BOB",
            recipient_team_id="T0LOCAL",
        )
        await slack.stop_agent_session(user="U0BOB", channel=OPS, thread_ts=ask)
        await expect_error(
            web.chat_appendStream(
                channel=OPS, ts=stream["ts"], chunks=[{**step, "status": "complete"}]
            ),
            "message_not_in_streaming_state",
        )
        await web.chat_stopStream(
            channel=OPS, ts=stream["ts"], chunks=[{**step, "status": "complete"}]
        )
        record = slack.stream(channel=OPS, ts=stream["ts"])
        assert record is not None
        assert (record["state"], record["stopped_by"], record["ended"]) == ("stopped", "user", True)
        assert [t["status"] for t in record["tasks"]] == ["complete"]
        session = slack.agent_session(channel=OPS, thread_ts=ask)
        assert session is not None and session["status"] == "active"
        await expect_error(
            web.chat_stopStream(channel=OPS, ts=stream["ts"]), "message_not_in_streaming_state"
        )
