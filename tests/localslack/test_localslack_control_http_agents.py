"""The control API's routes for AI-app surfaces, faults that lack a surface or fail on the
wire, and chaos: what bot tests in another process drive."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from localslack import LocalSlack, WorkspaceConfig

OPS = "C0OPS"


@pytest.fixture
def config() -> WorkspaceConfig:
    base = WorkspaceConfig(seed=11)
    return dataclasses.replace(
        base,
        scopes=(*base.scopes, "assistant:write"),
        subscribed_events=(*base.subscribed_events, "agent_session_stopped", "app_home_opened"),
        home_tab_enabled=True,
        timing=dataclasses.replace(base.timing, ack_timeout=0.4, server_ping_interval=None),
    )


@pytest.fixture
async def http(slack: LocalSlack) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=slack.url) as session:
        yield session


async def call(
    http: aiohttp.ClientSession, verb: str, path: str, *, expect: int = 200, **kwargs: Any
) -> dict[str, Any]:
    async with http.request(verb, f"/_control{path}", **kwargs) as resp:
        body: dict[str, Any] = await resp.json()
        assert resp.status == expect, body
        return body


async def test_status_and_sessions_over_http(
    slack: LocalSlack, http: aiohttp.ClientSession, web: AsyncWebClient
) -> None:
    ask = await slack.post_message(channel=OPS, user="U0ALICE", text="go")
    where = {"channel": OPS, "thread_ts": ask}
    waiter = asyncio.create_task(
        call(http, "POST", "/status/wait", json={**where, "status": "is thinking…", "timeout": 3})
    )
    await asyncio.sleep(0.05)
    await web.assistant_threads_setStatus(channel_id=OPS, thread_ts=ask, status="is thinking…")
    assert (await waiter)["change"]["cause"] == "set"
    current = (await call(http, "GET", "/status", params=where))["status"]
    assert current["shown_as"] == "signoff is thinking…"
    await web.chat_postMessage(channel=OPS, thread_ts=ask, text="done")
    changes = (await call(http, "GET", "/status/history", params=where))["changes"]
    assert [c["cause"] for c in changes] == ["set", "reply"]
    assert (await call(http, "GET", "/status", params=where))["status"] is None

    await web.agents_sessions_setStatus(channel_id=OPS, thread_ts=ask, status="processing")
    [session] = (await call(http, "GET", "/sessions", params=where))["sessions"]
    assert session["status"] == "processing"
    stopped = await call(http, "POST", "/sessions/stop", json={**where, "user": "U0ALICE"})
    assert stopped["delivery"]["payload"]["event"]["type"] == "agent_session_stopped"
    await web.agents_sessions_setStatus(channel_id=OPS, thread_ts=ask, status="active")
    waited = await call(http, "POST", "/sessions/wait", json={**where, "status": "active"})
    assert waited["session"]["status"] == "active"
    refused = await call(
        http, "POST", "/sessions/stop", json={**where, "user": "U0ALICE"}, expect=400
    )
    assert refused["error"] == "no_stop_button"


async def test_streams_and_home_over_http(
    slack: LocalSlack, http: aiohttp.ClientSession, web: AsyncWebClient
) -> None:
    ask = await slack.post_message(channel=OPS, user="U0BOB", text="go")
    started = await web.chat_startStream(
        channel=OPS,
        thread_ts=ask,
        markdown_text="Hello",
        recipient_user_id="U0BOB",
        recipient_team_id="T0LOCAL",
    )
    await web.chat_stopStream(channel=OPS, ts=started["ts"], markdown_text=" world")
    waited = await call(http, "POST", "/streams/wait", json={"thread_ts": ask})
    assert waited["stream"]["text"] == "Hello world"
    [listed] = (await call(http, "GET", "/streams", params={"channel": OPS}))["streams"]
    assert listed["ts"] == started["ts"]

    assert (await call(http, "GET", "/home", params={"user": "U0BOB"}))["view"] is None
    opened = await call(http, "POST", "/home/open", json={"user": "U0BOB"})
    assert opened["delivery"]["payload"]["event"]["tab"] == "home"
    view = {
        "type": "home",
        "blocks": [
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "refresh",
                        "text": {"type": "plain_text", "text": "Refresh"},
                    }
                ],
            }
        ],
    }
    await web.views_publish(user_id="U0BOB", view=view)
    shown = (await call(http, "POST", "/home/wait", json={"user": "U0BOB"}))["view"]
    clicked = await call(http, "POST", "/home/click", json={"user": "U0BOB"})
    assert clicked["payload"]["container"] == {"type": "view", "view_id": shown["id"]}
    missing = await call(http, "POST", "/home/click", json={"user": "U0DAVE"}, expect=404)
    assert missing["error"] == "view_not_found"


async def test_fault_routes(
    slack: LocalSlack, http: aiohttp.ClientSession, web: AsyncWebClient
) -> None:
    await call(
        http,
        "POST",
        "/faults/surface",
        json={"method": "chat.startStream", "error": "unknown_method"},
    )
    with pytest.raises(SlackApiError) as info:
        await web.chat_startStream(channel="D0BOB", thread_ts="1.000001", markdown_text="x")
    assert info.value.response["error"] == "unknown_method"
    bad = await call(
        http, "POST", "/faults/surface", json={"method": "x", "error": "nope"}, expect=400
    )
    assert bad["error"] == "invalid_argument"
    await call(http, "DELETE", "/faults")

    await call(
        http, "POST", "/faults", json={"method": "chat.postMessage", "count": None, "status": 500}
    )
    for _ in range(2):
        with pytest.raises(SlackApiError):
            await web.chat_postMessage(channel=OPS, text="x")
    [fault] = (await call(http, "GET", "/faults"))["faults"]
    assert (fault["remaining"], fault["fired"]) == (None, 2)
    await call(http, "DELETE", "/faults")

    await call(
        http,
        "POST",
        "/faults",
        json={"method": "chat.postMessage", "status": 500, "after_commit": True},
    )
    with pytest.raises(SlackApiError):
        await web.chat_postMessage(channel=OPS, text="posted anyway")
    calls = (await call(http, "GET", "/calls", params={"method": "chat.postMessage"}))["calls"]
    assert (calls[-1]["committed"], calls[-1]["ok"]) == (True, False)
    assert slack.messages(channel=OPS)[-1]["text"] == "posted anyway"


async def test_chaos_routes(slack: LocalSlack, http: aiohttp.ClientSession) -> None:
    await call(http, "POST", "/chaos/duplicates", json={"seed": 4})
    for i in range(6):
        await slack.post_message(channel=OPS, user="U0BOB", text=f"m{i}")
    events = (await call(http, "GET", "/chaos/events", params={"kind": "duplicate"}))["events"]
    assert events and all(e["kind"] == "duplicate" for e in events)
    deliveries = (await call(http, "GET", "/deliveries", params={"type": "events_api"}))[
        "deliveries"
    ]
    assert sum(1 for d in deliveries if d["duplicate_of"]) == sum(e["copies"] - 1 for e in events)
    await call(http, "DELETE", "/chaos/duplicates")
    await call(http, "POST", "/chaos/drops", json={"seed": 1, "interval": [0.05, 0.1]})
    await call(http, "DELETE", "/chaos/drops")
    bad = await call(http, "POST", "/chaos/drops", json={"seed": 1, "probability": 2}, expect=400)
    assert bad["error"] == "invalid_argument"
    missing = await call(http, "POST", "/chaos/duplicates", json={}, expect=400)
    assert missing["error"] == "missing_argument"
