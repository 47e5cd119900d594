"""The page's JSON API for the new surfaces, without a browser: each person sees only their
own DM with the app, the state carries thread statuses, sessions and stream progress, and
the App Home actions reach the app."""

from __future__ import annotations

import dataclasses
from typing import Any

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from localslack import LocalSlack, WorkspaceConfig


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(var, raising=False)


def config() -> WorkspaceConfig:
    base = WorkspaceConfig()
    return dataclasses.replace(
        base,
        scopes=(*base.scopes, "assistant:write"),
        subscribed_events=(*base.subscribed_events, "app_home_opened", "agent_session_stopped"),
        home_tab_enabled=True,
    )


async def test_ui_api_for_dms_statuses_streams_and_home() -> None:
    async with LocalSlack(config()) as slack, aiohttp.ClientSession(base_url=slack.url) as http:
        web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)

        async def get(path: str, **query: str) -> tuple[int, dict[str, Any]]:
            async with http.get(path, params=query) as response:
                return response.status, await response.json()

        async def post(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            async with http.post(path, json=body) as response:
                return response.status, await response.json()

        status, boot = await get("/_ui/api/bootstrap")
        assert boot["app"] == {"home_tab_enabled": True, "messages_tab": "on"}
        assert {"id": "D0ALICE", "user": "U0ALICE"} in boot["ims"]
        assert await get("/_ui/api/state", user="U0BOB", channel="D0ALICE") == (
            403,
            {"ok": False, "error": "not_in_channel", "detail": "U0BOB cannot see D0ALICE"},
        )

        ask = await slack.post_message(channel="C0OPS", user="U0ALICE", text="<@U0SIGNOFF> go")
        await web.assistant_threads_setStatus(channel_id="C0OPS", thread_ts=ask, status="is busy")
        await web.agents_sessions_setStatus(channel_id="C0OPS", thread_ts=ask, status="processing")
        started = await web.chat_startStream(
            channel="C0OPS",
            thread_ts=ask,
            markdown_text="Half",
            recipient_user_id="U0ALICE",
            recipient_team_id="T0LOCAL",
        )
        await web.assistant_threads_setStatus(channel_id="C0OPS", thread_ts=ask, status="is busy")
        status, state = await get("/_ui/api/state", user="U0ALICE", channel="C0OPS", thread=ask)
        assert status == 200
        assert state["statuses"][ask]["shown_as"] == "signoff is busy"
        assert 0 < state["refresh_in"] <= 120
        assert state["sessions"][ask]["stoppable"] is True
        [streamed] = [m for m in state["thread"] if m["ts"] == started["ts"]]
        assert streamed["stream"]["state"] == "streaming"
        assert streamed["stream"]["text"] == "Half"
        # The Web API never shows the page's decorations.
        replies = await web.conversations_replies(channel="C0OPS", ts=ask)
        assert "stream" not in replies["messages"][1]

        assert await post(
            "/_ui/api/stop_session", {"user": "U0ALICE", "channel": "C0OPS", "thread_ts": ask}
        ) == (200, {"ok": True})
        assert slack.deliveries(kind="agent_session_stopped")

        assert await get("/_ui/api/home", user="U0BOB") == (200, {"ok": True, "view": None})
        assert await post("/_ui/api/home_opened", {"user": "U0BOB", "tab": "home"}) == (
            200,
            {"ok": True, "sent": True},
        )
        view = {
            "type": "home",
            "blocks": [
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "go",
                            "text": {"type": "plain_text", "text": "Go"},
                        }
                    ],
                }
            ],
        }
        published = (await web.views_publish(user_id="U0BOB", view=view))["view"]
        status, home = await get("/_ui/api/home", user="U0BOB")
        assert home["view"]["id"] == published["id"]
        status, clicked = await post(
            "/_ui/api/click_view", {"user": "U0BOB", "view_id": published["id"], "action_id": "go"}
        )
        assert status == 200 and clicked["envelope_id"]
        bad, refused = await post("/_ui/api/home_opened", {"user": "U0BOB", "tab": "about"})
        assert (bad, refused["error"]) == (400, "invalid_tab")


async def test_a_streamed_message_shows_its_final_text_once_the_app_updated_it() -> None:
    """The page drew a streamed message from what was streamed, so a reply an app finished
    with chat.update (a stream a person stopped, an append that failed) still showed its
    half there, never the text Slack shows."""
    async with LocalSlack(config()) as slack, aiohttp.ClientSession(base_url=slack.url) as http:
        web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        ask = await slack.post_message(channel="C0OPS", user="U0ALICE", text="<@U0SIGNOFF> go")
        started = await web.chat_startStream(
            channel="C0OPS",
            thread_ts=ask,
            markdown_text="Half",
            recipient_user_id="U0ALICE",
            recipient_team_id="T0LOCAL",
        )
        await web.chat_stopStream(channel="C0OPS", ts=started["ts"])
        await web.chat_update(channel="C0OPS", ts=started["ts"], text="Half, and the rest.")
        params = {"user": "U0ALICE", "channel": "C0OPS", "thread": ask}
        async with http.get("/_ui/api/state", params=params) as response:
            state = await response.json()
        [streamed] = [m for m in state["thread"] if m["ts"] == started["ts"]]
        assert streamed["stream"]["text"] == streamed["text"] == "Half, and the rest."
