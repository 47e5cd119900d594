"""A real Bolt app meets the new surfaces: a DM conversation (message.im), a private channel
(message.groups), the stop button (agent_session_stopped), and duplicated deliveries."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
from localslack_testkit import running_bolt
from slack_bolt.async_app import AsyncApp, AsyncSay
from slack_sdk.web.async_client import AsyncWebClient

from localslack import LocalSlack, Timing, WorkspaceConfig

JSONDict = dict[str, Any]


async def ignore() -> None:
    """A listener for subscribed events a test does not look at (Bolt acks handled ones)."""


@pytest.fixture
def config() -> WorkspaceConfig:
    base = WorkspaceConfig(seed=21, timing=Timing(ack_timeout=1.5, server_ping_interval=None))
    return dataclasses.replace(
        base,
        scopes=(*base.scopes, "assistant:write"),
        subscribed_events=(
            "app_mention",
            "message.channels",
            "message.groups",
            "message.im",
            "agent_session_stopped",
        ),
    )


@pytest.fixture
async def app(slack: LocalSlack) -> AsyncIterator[AsyncApp]:
    async with running_bolt(slack) as bolt:
        yield bolt


async def test_a_dm_and_a_private_channel_reach_bolt(slack: LocalSlack, app: AsyncApp) -> None:
    seen: asyncio.Queue[JSONDict] = asyncio.Queue()

    async def on_message(event: JSONDict, say: AsyncSay) -> None:
        await seen.put(event)
        if event.get("channel_type") == "im":
            await say(text=f"Got it, <@{event['user']}>", thread_ts=event["ts"])

    app.event("message")(on_message)
    app.event("app_mention")(ignore)
    dm = await slack.post_message(channel="D0ALICE", user="U0ALICE", text="what's pending?")
    answer = await slack.wait_for_message(channel="D0ALICE", thread_ts=dm, from_bot=True)
    assert answer["text"] == "Got it, <@U0ALICE>"
    await slack.post_message(channel="C0PRIVATE", user="U0ALICE", text="follow-up, no mention")
    events = [await asyncio.wait_for(seen.get(), 3) for _ in range(2)]
    assert {(e["channel"], e["channel_type"]) for e in events} == {
        ("D0ALICE", "im"),
        ("C0PRIVATE", "group"),
    }


async def test_the_stop_button_reaches_bolt(
    slack: LocalSlack, app: AsyncApp, web: AsyncWebClient
) -> None:
    stopped: asyncio.Queue[JSONDict] = asyncio.Queue()

    async def on_stop(event: JSONDict, client: AsyncWebClient) -> None:
        await client.agents_sessions_setStatus(
            channel_id=event["channel"], thread_ts=event["thread_ts"], status="active"
        )
        await stopped.put(event)

    app.event("agent_session_stopped")(on_stop)
    app.event("message")(ignore)
    app.event("app_mention")(ignore)
    ask = await slack.post_message(channel="C0OPS", user="U0BOB", text="<@U0SIGNOFF> deploy")
    await web.agents_sessions_setStatus(channel_id="C0OPS", thread_ts=ask, status="processing")
    await slack.stop_agent_session(user="U0BOB", channel="C0OPS", thread_ts=ask)
    event = await asyncio.wait_for(stopped.get(), 3)
    assert (event["user"], event["thread_ts"], event["streaming_message_ts"]) == ("U0BOB", ask, [])
    session = await slack.wait_for_session_status(channel="C0OPS", thread_ts=ask, status="active")
    assert [h["by"] for h in session["history"]][-1] == "agents.sessions.setStatus"


async def test_bolt_sees_each_duplicate(slack: LocalSlack, app: AsyncApp) -> None:
    calls: list[str] = []
    changed = asyncio.Event()
    slack.duplicate_events(seed=5)

    async def on_message(body: JSONDict) -> None:
        calls.append(body["event_id"])
        changed.set()

    app.event("message")(on_message)
    app.event("app_mention")(ignore)
    for i in range(5):
        await slack.post_message(channel="C0OPS", user="U0CAROL", text=f"line {i}")
    expected = 5 + sum(e.detail["copies"] - 1 for e in slack.chaos_events(kind="duplicate"))
    assert expected > 5

    def sent() -> list[str]:
        # Each copy, and Slack's own retry of one acked late (on a loaded machine).
        return sorted(str(d.event_id) for d in slack.deliveries(kind="message") if d.sent_at)

    async with asyncio.timeout(5):
        while len(calls) < expected or sorted(calls) != sent():
            changed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.1):  # a retry is sent before Bolt hears it
                    await changed.wait()
    # Bolt does no deduplication: the app must, by event_id.
    assert len(calls) >= expected and len(set(calls)) == 5


async def test_bolt_set_status_and_say_stream_in_a_channel_thread(
    slack: LocalSlack, app: AsyncApp
) -> None:
    async def on_mention(event: JSONDict, set_status: Any, say_stream: Any) -> None:
        await set_status(status="is thinking…", loading_messages=["Reading the runbook"])
        streamer = await say_stream(buffer_size=8)
        await streamer.append(markdown_text="All **green**")
        await streamer.stop()

    app.event("app_mention")(on_mention)
    app.event("message")(ignore)
    ask = await slack.post_message(channel="C0OPS", user="U0CAROL", text="<@U0SIGNOFF> status?")
    record = await slack.wait_for_stream(channel="C0OPS", thread_ts=ask)
    assert record["text"] == "All **green**"
    # Bolt fills the recipient from the event: the person who asked.
    assert (record["recipient_user_id"], record["recipient_team_id"]) == ("U0CAROL", "T0LOCAL")
    changes = slack.status_history(channel="C0OPS", thread_ts=ask)
    assert [(c["status"], c["cause"]) for c in changes] == [("is thinking…", "set"), ("", "reply")]
