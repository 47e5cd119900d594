"""The JSON control API under /_control/, used by tests in other processes and the UI."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from localslack_testkit import Inbox
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.web.async_client import AsyncWebClient

from localslack import LocalSlack


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


async def test_describe_lists_the_workspace(slack: LocalSlack, http: aiohttp.ClientSession) -> None:
    info = await call(http, "GET", "")
    assert info["api_url"] == slack.api_url
    assert info["bot"] == {
        "user_id": "U0SIGNOFF",
        "bot_id": "B0SIGNOFF",
        "app_id": "A0SIGNOFF",
        "name": "signoff",
    }
    assert {u["id"] for u in info["users"]} == {"U0ALICE", "U0BOB", "U0CAROL", "U0DAVE"}
    assert "C0OPS" in {c["id"] for c in info["channels"]}
    assert info["subscribed_events"] == ["app_mention", "message.channels"]


async def test_post_then_long_poll_for_the_bot_reply(
    slack: LocalSlack, http: aiohttp.ClientSession, web: AsyncWebClient
) -> None:
    posted = await call(
        http, "POST", "/messages", json={"channel": "C0OPS", "user": "U0ALICE", "text": "status?"}
    )
    ts = posted["ts"]
    waiter = asyncio.create_task(
        call(
            http,
            "GET",
            "/messages/wait",
            params={"thread_ts": ts, "from_bot": "true", "text_contains": "green", "timeout": "3"},
        )
    )
    await asyncio.sleep(0)  # let the long poll register before the reply exists
    await web.chat_postMessage(channel="C0OPS", thread_ts=ts, text="all green")
    found = (await waiter)["message"]
    assert found["text"] == "all green"
    assert found["channel"] == "C0OPS"
    assert found["thread_ts"] == ts

    thread = await call(http, "GET", "/thread", params={"channel": "C0OPS", "ts": ts})
    assert [m["text"] for m in thread["messages"]] == ["status?", "all green"]
    calls = await call(http, "GET", "/calls", params={"method": "chat.postMessage"})
    [logged] = calls["calls"]
    assert logged["args"]["thread_ts"] == ts
    assert (logged["status"], logged["ok"]) == (200, True)
    timeout = await call(
        http,
        "GET",
        "/messages/wait",
        params={"text_contains": "never", "timeout": "0.05"},
        expect=408,
    )
    assert timeout["error"] == "timeout"


async def test_faults_and_rate_limits_over_http(
    slack: LocalSlack, http: aiohttp.ClientSession, web: AsyncWebClient
) -> None:
    await call(
        http,
        "POST",
        "/faults",
        json={"method": "chat.postMessage", "status": 429, "retry_after": 7},
    )
    assert len((await call(http, "GET", "/faults"))["faults"]) == 1
    with pytest.raises(SlackApiError) as info:
        await web.chat_postMessage(channel="C0OPS", text="x")
    assert info.value.response.status_code == 429
    assert info.value.response.headers["Retry-After"] == "7"
    assert (await call(http, "GET", "/faults"))["faults"] == []
    await web.chat_postMessage(channel="C0OPS", text="recovered")

    await call(http, "POST", "/faults", json={"method": "*", "error": "fatal_error", "count": 5})
    await call(http, "DELETE", "/faults")
    await web.auth_test()

    await call(http, "POST", "/ratelimits", json={"enabled": True})
    for i in range(3):
        await web.chat_postMessage(channel="C0GENERAL", text=str(i))
    with pytest.raises(SlackApiError) as info:
        await web.chat_postMessage(channel="C0GENERAL", text="one too many")
    assert info.value.response["error"] == "ratelimited"


async def test_control_errors_are_explicit(http: aiohttp.ClientSession) -> None:
    missing = await call(http, "POST", "/messages", json={"channel": "C0OPS"}, expect=400)
    assert missing["error"] == "missing_argument"
    unknown = await call(
        http, "POST", "/messages", json={"channel": "C0OPS", "user": "U0X", "text": "x"}, expect=404
    )
    assert unknown["error"] == "user_not_found"
    outsider = await call(
        http,
        "POST",
        "/messages",
        json={"channel": "C0OPS", "user": "U0DAVE", "text": "x"},
        expect=400,
    )
    assert outsider["error"] == "not_in_channel"
    bad_thread = await call(
        http,
        "POST",
        "/messages",
        json={"channel": "C0OPS", "user": "U0BOB", "text": "x", "thread_ts": "1.000000"},
        expect=400,
    )
    assert bad_thread["error"] == "thread_not_found"


async def test_interactions_sockets_and_deliveries_over_http(
    slack: LocalSlack,
    http: aiohttp.ClientSession,
    web: AsyncWebClient,
    inbox: Inbox,
    socket_client: SocketModeClient,
) -> None:
    blocks = [
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "ok",
                    "text": {"type": "plain_text", "text": "OK"},
                    "value": "v",
                }
            ],
        }
    ]
    card = await web.chat_postMessage(channel="C0OPS", text="card", blocks=blocks)
    click = await call(
        http,
        "POST",
        "/click",
        json={"channel": "C0OPS", "ts": card["ts"], "user": "U0BOB", "value": "v"},
    )
    assert click["payload"]["actions"][0]["action_id"] == "ok"
    command = await call(
        http,
        "POST",
        "/commands",
        json={"command": "/trace", "user": "U0BOB", "channel": "C0OPS", "text": "x"},
    )
    assert command["payload"]["command"] == "/trace"
    await inbox.wait_until(lambda: len([r for r in inbox.requests if r.type != "events_api"]) == 2)
    await slack.wait_for_ack(command["envelope_id"])

    listed = await call(http, "GET", "/deliveries", params={"type": "slash_commands"})
    [delivery] = listed["deliveries"]
    assert delivery["envelope_id"] == command["envelope_id"]
    assert delivery["acked"] is True
    assert delivery["kind"] == "/trace"
    assert delivery["retry_attempt"] == 0

    [sock] = (await call(http, "GET", "/sockets"))["sockets"]
    dropped = await call(http, "POST", "/sockets/drop", json={})
    assert dropped["sockets"] == [sock["id"]]
    assert (await call(http, "GET", "/sockets"))["sockets"] == []


async def test_raw_envelopes_over_http(
    slack: LocalSlack, http: aiohttp.ClientSession, inbox: Inbox, socket_client: SocketModeClient
) -> None:
    sent = await call(
        http,
        "POST",
        "/envelopes",
        json={"type": "slash_commands", "payload": {"command": "/nope", "text": "\ud83d"}},
    )
    delivery = sent["delivery"]
    assert (delivery["type"], delivery["kind"], delivery["raw"]) == (
        "slash_commands",
        "/nope",
        True,
    )
    await slack.wait_for_ack(delivery["envelope_id"])
    [request] = [r for r in inbox.requests if r.envelope_id == delivery["envelope_id"]]
    assert request.payload == {"command": "/nope", "text": "\ud83d"}
    missing = await call(http, "POST", "/envelopes", json={"type": "interactive"}, expect=400)
    assert (missing["error"], missing["detail"]) == ("missing_argument", "payload")


async def test_a_person_edits_and_deletes_their_own_message_only(
    slack: LocalSlack, http: aiohttp.ClientSession
) -> None:
    posted = await call(
        http, "POST", "/messages", json={"channel": "C0OPS", "user": "U0ALICE", "text": "a & b"}
    )
    ts = posted["ts"]
    edit = {"channel": "C0OPS", "user": "U0ALICE", "ts": ts, "text": "a < b"}
    await call(http, "POST", "/messages/edit", json=edit)
    (shown,) = [m for m in slack.workspace.messages("C0OPS") if m["ts"] == ts]
    assert shown["text"] == "a &lt; b"  # escaped as a client sends it
    assert shown["edited"]["user"] == "U0ALICE"
    refused = await call(
        http, "POST", "/messages/delete", expect=400,
        json={"channel": "C0OPS", "user": "U0BOB", "ts": ts},
    )  # fmt: skip
    assert refused["error"] == "cant_update_message"
    await call(
        http, "POST", "/messages/delete", json={"channel": "C0OPS", "user": "U0ALICE", "ts": ts}
    )
    assert ts not in {m["ts"] for m in slack.workspace.messages("C0OPS")}


async def test_a_list_or_object_where_a_text_belongs_is_a_400(
    slack: LocalSlack, http: aiohttp.ClientSession
) -> None:
    # Each reached a dict look-up (an unhashable key) or dict() of a number: a 500, a
    # traceback in the log of the `signoff dev` that serves this API.
    post = {"channel": "C0OPS", "user": "U0BOB", "text": "x"}
    for path, body in (
        ("/messages", {**post, "thread_ts": {"a": 1}}),
        ("/messages", {**post, "channel": ["C0OPS"]}),
        ("/views/submit", {"user": "U0BOB", "values": 1}),
        ("/views/submit", {"user": "U0BOB", "view_id": ["V1"]}),
        ("/home/click", {"user": "U0BOB", "view_id": []}),
        ("/click", {"channel": "C0OPS", "user": "U0BOB", "ts": "1.1", "value": {}}),
    ):
        refused = await call(http, "POST", path, json=body, expect=400)
        assert refused["error"] == "invalid_argument", (path, body)
    assert slack.messages(channel="C0OPS") == []
