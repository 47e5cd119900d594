"""Streamed replies: chat.startStream / appendStream / stopStream through slack_sdk, both raw
and through its chat_stream helper, with task and plan chunks."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.models.messages.chunk import MarkdownTextChunk, PlanUpdateChunk, TaskUpdateChunk
from slack_sdk.web.async_client import AsyncWebClient

from localslack import LocalSlack, WorkspaceConfig

OPS = "C0OPS"
RECIPIENT: dict[str, Any] = {"recipient_user_id": "U0ALICE", "recipient_team_id": "T0LOCAL"}


async def expect_error(call: Any, code: str) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as info:
        await call
    assert info.value.response["error"] == code, info.value.response
    return dict(info.value.response.data)


async def test_the_sdk_stream_helper_grows_one_message(
    slack: LocalSlack, web: AsyncWebClient
) -> None:
    ask = await slack.post_message(channel=OPS, user="U0ALICE", text="<@U0SIGNOFF> status?")
    await web.assistant_threads_setStatus(channel_id=OPS, thread_ts=ask, status="is thinking…")
    streamer = await web.chat_stream(channel=OPS, thread_ts=ask, buffer_size=10, **RECIPIENT)
    await streamer.append(markdown_text="**All** ")
    await streamer.append(markdown_text="services ")  # flushes: 17 characters buffered
    assert streamer.ts is not None
    growing = slack.message(channel=OPS, ts=streamer.ts)
    assert growing is not None and growing["text"] == "**All** services "
    # Starting the stream is a reply: the status line goes.
    assert slack.thread_status(channel=OPS, thread_ts=ask) is None
    await streamer.append(markdown_text="are green.")
    done = await streamer.stop(markdown_text=" :tada:")
    assert done["message"]["text"] == "**All** services are green. :tada:"

    record = await slack.wait_for_stream(channel=OPS, thread_ts=ask)
    assert record["state"] == "stopped" and record["stopped_by"] == "app"
    assert record["recipient_user_id"] == "U0ALICE"
    assert [c["method"] for c in record["calls"]] == [
        "chat.startStream",
        "chat.appendStream",
        "chat.stopStream",
    ]
    assert record["calls"][0]["chunks"] == [{"type": "markdown_text", "text": "**All** services "}]
    [reply] = slack.thread(channel=OPS, ts=ask)[1:]
    assert reply["ts"] == streamer.ts
    assert reply["bot_id"] == "B0SIGNOFF"


async def test_tasks_and_plans_merge_by_id(slack: LocalSlack, web: AsyncWebClient) -> None:
    ask = await slack.post_message(channel=OPS, user="U0ALICE", text="restart api")
    started = await web.chat_startStream(
        channel=OPS,
        thread_ts=ask,
        task_display_mode="plan",
        chunks=[PlanUpdateChunk(title="Restart api"), MarkdownTextChunk(text="Looking. ")],
        **RECIPIENT,
    )
    ts = started["ts"]
    assert started["channel"] == OPS
    await web.chat_appendStream(
        channel=OPS,
        ts=ts,
        chunks=[TaskUpdateChunk(id="t1", title="check_health", status="in_progress")],
    )
    await web.chat_appendStream(
        channel=OPS,
        ts=ts,
        chunks=[TaskUpdateChunk(id="t1", title="check_health", status="complete", output="ok")],
    )
    stopped = await web.chat_stopStream(
        channel=OPS,
        ts=ts,
        markdown_text="Healthy.",
        blocks=[{"type": "context", "elements": [{"type": "mrkdwn", "text": "via signoff"}]}],
        metadata={"event_type": "signoff_reply", "event_payload": {"outbox_id": "o-1"}},
    )
    assert stopped["message"]["metadata"] == {"event_type": "signoff_reply"}
    record = slack.stream(channel=OPS, ts=ts)
    assert record is not None
    assert record["display_mode"] == "plan"
    assert record["plan_title"] == "Restart api"
    assert record["text"] == "Looking. Healthy."
    assert record["tasks"] == [
        {
            "type": "task_update",
            "id": "t1",
            "title": "check_health",
            "status": "complete",
            "output": "ok",
        }
    ]
    stored = slack.message(channel=OPS, ts=ts)
    assert stored is not None
    assert stored["blocks"][0]["type"] == "context"
    assert stored["metadata"]["event_payload"] == {"outbox_id": "o-1"}
    await expect_error(
        web.chat_appendStream(channel=OPS, ts=ts, markdown_text="late"),
        "message_not_in_streaming_state",
    )
    await expect_error(web.chat_stopStream(channel=OPS, ts=ts), "message_not_in_streaming_state")


async def test_stream_errors(slack: LocalSlack, web: AsyncWebClient) -> None:
    ask = await slack.post_message(channel=OPS, user="U0ALICE", text="hi")
    await expect_error(
        web.chat_startStream(channel=OPS, thread_ts=ask, recipient_team_id="T0LOCAL"),
        "missing_recipient_user_id",
    )
    await expect_error(
        web.chat_startStream(channel=OPS, thread_ts=ask, recipient_user_id="U0ALICE"),
        "missing_recipient_team_id",
    )
    await expect_error(
        web.chat_startStream(
            channel=OPS, thread_ts=ask, recipient_user_id="U0NOBODY", recipient_team_id="T0LOCAL"
        ),
        "user_not_found",
    )
    await expect_error(
        web.chat_startStream(channel=OPS, thread_ts=ask, task_display_mode="grid", **RECIPIENT),
        "invalid_arguments",
    )
    await expect_error(
        web.chat_startStream(channel=OPS, thread_ts="1.000001", **RECIPIENT), "thread_not_found"
    )
    await expect_error(
        web.chat_startStream(channel="C0RANDOM", thread_ts=ask, **RECIPIENT), "not_in_channel"
    )
    body = await expect_error(
        web.chat_startStream(
            channel=OPS,
            thread_ts=ask,
            chunks=[{"type": "task_update", "id": "t", "title": "x", "status": "done"}],
            **RECIPIENT,
        ),
        "invalid_arguments",
    )
    assert "/chunks/0/status" in body["response_metadata"]["messages"][0]
    await expect_error(
        web.chat_startStream(channel=OPS, thread_ts=ask, markdown_text="x" * 12_001, **RECIPIENT),
        "invalid_arguments",
    )
    started = await web.chat_startStream(channel=OPS, thread_ts=ask, **RECIPIENT)
    await expect_error(web.chat_appendStream(channel=OPS, ts=started["ts"]), "no_text")
    await expect_error(
        web.chat_appendStream(channel=OPS, ts="1.000001", markdown_text="x"), "message_not_found"
    )
    plain = await web.chat_postMessage(channel=OPS, text="not a stream")
    await expect_error(
        web.chat_appendStream(channel=OPS, ts=plain["ts"], markdown_text="x"),
        "message_not_in_streaming_state",
    )
    await expect_error(
        web.chat_stopStream(channel=OPS, ts=started["ts"], session_status="asleep"),
        "invalid_arguments",
    )
    await expect_error(
        web.chat_stopStream(channel=OPS, ts=started["ts"], metadata={"event_type": "x"}),
        "invalid_metadata_schema",
    )


async def test_a_dm_stream_needs_no_recipient_and_stop_moves_the_session(
    config: WorkspaceConfig,
) -> None:
    agent = dataclasses.replace(config, scopes=(*config.scopes, "assistant:write"))
    async with LocalSlack(agent) as slack:
        web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        ask = await slack.post_message(channel="D0CAROL", user="U0CAROL", text="help me")
        await web.agents_sessions_setStatus(
            channel_id="D0CAROL", thread_ts=ask, status="processing"
        )
        started = await web.chat_startStream(
            channel="D0CAROL", thread_ts=ask, markdown_text="On it"
        )
        await web.chat_stopStream(channel="D0CAROL", ts=started["ts"], session_status="suspended")
        session = slack.agent_session(channel="D0CAROL", thread_ts=ask)
        assert session is not None
        assert [(h["status"], h["by"]) for h in session["history"]] == [
            ("processing", "agents.sessions.setStatus"),
            ("suspended", "chat.stopStream"),
        ]


@pytest.mark.parametrize(
    ("chunk", "field"),
    [
        ({"type": "task_update", "id": "t", "title": "x", "status": "error"}, "details"),
        ({"type": "task_update", "id": "t", "title": "x", "status": "complete"}, "output"),
        ({"type": "plan_update"}, "title"),
    ],
)
async def test_a_step_s_texts_hold_256_characters(
    slack: LocalSlack, web: AsyncWebClient, chunk: dict[str, Any], field: str
) -> None:
    """Slack's guidance: "Each task_update and plan_update chunk is limited to 256
    characters, so keep details and output short"."""
    ask = await slack.post_message(channel=OPS, user="U0ALICE", text="hi")
    started = await web.chat_startStream(
        channel=OPS, thread_ts=ask, chunks=[{**chunk, field: "x" * 256}], **RECIPIENT
    )
    body = await expect_error(
        web.chat_appendStream(channel=OPS, ts=started["ts"], chunks=[{**chunk, field: "x" * 257}]),
        "invalid_arguments",
    )
    assert f"/chunks/0/{field}" in body["response_metadata"]["messages"][0]


async def test_a_step_s_details_are_added_to_not_replaced(
    slack: LocalSlack, web: AsyncWebClient
) -> None:
    """Slack's agent guidance: "On an update with the same id, Slack adds the new details to
    the earlier text instead of replacing it, with no separator." The rest is replaced."""
    ask = await slack.post_message(channel=OPS, user="U0ALICE", text="hi")
    step = {"type": "task_update", "id": "t1", "title": "check"}
    started = await web.chat_startStream(
        channel=OPS,
        thread_ts=ask,
        chunks=[{**step, "status": "in_progress", "details": "api"}],
        **RECIPIENT,
    )
    await web.chat_appendStream(channel=OPS, ts=started["ts"], chunks=[{**step, "status": "error"}])
    await web.chat_stopStream(
        channel=OPS, ts=started["ts"], chunks=[{**step, "status": "error", "details": ", web"}]
    )
    record = slack.stream(channel=OPS, ts=started["ts"])
    assert record is not None
    [task] = record["tasks"]
    assert (task["status"], task["details"]) == ("error", "api, web")
