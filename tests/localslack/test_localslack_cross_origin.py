"""The browser UI's and the control API's writes come only from LocalSlack's own page.

Neither asks who is calling: in ``signoff dev`` they post as any person and click any
button. A page on another site, open in the same browser, could otherwise send them a
"simple" cross-origin POST (no preflight) and approve a request on someone's Home tab, or
a rebound DNS name could reach them as if it were this server.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from localslack import LocalSlack, WorkspaceConfig

OPS = "C0OPS"
EVIL = "https://evil.example"
HOME = {
    "type": "home",
    "blocks": [
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "approve",
                    "value": "appr_1",
                    "text": {"type": "plain_text", "text": "Approve"},
                }
            ],
        }
    ],
}


@pytest.fixture
def config(config: WorkspaceConfig) -> WorkspaceConfig:
    return dataclasses.replace(config, home_tab_enabled=True)


async def test_a_write_from_another_origin_is_refused_and_does_nothing(
    slack: LocalSlack, web: AsyncWebClient
) -> None:
    await web.views_publish(user_id="U0BOB", view=HOME)
    message = {"user": "U0ALICE", "channel": OPS, "text": "@signoff restart api"}
    async with aiohttp.ClientSession() as http:
        attempts: list[tuple[str, dict[str, Any]]] = [
            # What a form or fetch(…, {mode: "no-cors"}) on another site can send.
            ("/_ui/api/message", {"data": str(message).replace("'", '"')}),
            ("/_ui/api/click_view", {"data": '{"user": "U0BOB", "action_id": "approve"}'}),
            ("/_control/messages", {"params": message}),
            ("/_control/home/click", {"params": {"user": "U0BOB", "action_id": "approve"}}),
        ]
        for path, sent in attempts:
            headers = {"Origin": EVIL, "Content-Type": "text/plain"}
            async with http.post(f"{slack.url}{path}", headers=headers, **sent) as answer:
                assert answer.status == 403, path
            # A browser that sends no Origin still says the request is cross-site.
            headers = {"Sec-Fetch-Site": "cross-site", "Content-Type": "text/plain"}
            async with http.post(f"{slack.url}{path}", headers=headers, **sent) as answer:
                assert answer.status == 403, path
        # DNS rebinding: another name that resolves to this loopback server.
        evil = f"evil.example:{slack.port}"
        rebound = {"Host": evil, "Origin": f"http://{evil}"}
        async with http.post(f"{slack.url}/_ui/api/message", headers=rebound, json=message) as a:
            assert a.status == 403
        query = {"user": "U0ALICE", "channel": OPS}
        async with http.get(f"{slack.url}/_ui/api/state", headers=rebound, params=query) as a:
            assert a.status == 403
    assert slack.messages(channel=OPS) == []
    assert slack.deliveries(type="interactive") == []

    # The page itself (same origin), and clients that are no browser, go on as before.
    async with aiohttp.ClientSession() as http:
        mine = {"Origin": slack.url, "Sec-Fetch-Site": "same-origin"}
        async with http.post(f"{slack.url}/_ui/api/message", headers=mine, json=message) as a:
            assert a.status == 200
        async with http.post(f"{slack.url}/_control/messages", json=message) as a:
            assert a.status == 200
        # The same origin as a browser compares it: a name's case is not another site.
        localhost = slack.url.replace("127.0.0.1", "localhost")
        shouted = {"Origin": localhost.replace("localhost", "LOCALHOST")}
        async with http.post(f"{localhost}/_ui/api/message", headers=shouted, json=message) as a:
            assert a.status == 200
        async with http.get(f"{localhost}/_ui/api/state", params=query) as a:
            assert a.status == 200
    assert len(slack.messages(channel=OPS)) == 3


async def test_a_read_or_a_socket_from_another_site_is_refused_too(
    slack: LocalSlack, web: AsyncWebClient
) -> None:
    """The Web API takes its token in the query string and answers a GET, and in
    ``signoff dev`` the tokens are the well-known defaults: an ``<img>`` on another site
    posted as the bot. A WebSocket is a GET as well, and no CORS stands in its way."""
    post = {"token": slack.bot_token, "channel": OPS, "text": "from another site"}
    # What an <img src>, fetch(…, {mode: "no-cors"}), a frame and a link can send.
    image = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"}
    fetched = {"Origin": EVIL, "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors"}
    frame = {
        "Sec-Fetch-Site": "cross-site",
        "Sec-Fetch-Mode": "navigate",
        "Sec-Fetch-Dest": "iframe",
    }
    link = {
        "Sec-Fetch-Site": "cross-site",
        "Sec-Fetch-Mode": "navigate",
        "Sec-Fetch-Dest": "document",
    }
    sibling = {**image, "Sec-Fetch-Site": "same-site"}
    async with aiohttp.ClientSession() as http:
        for headers in (image, fetched, frame, link, sibling):
            async with http.get(
                f"{slack.url}/api/chat.postMessage", params=post, headers=headers
            ) as a:
                assert a.status == 403, headers
        for headers in (image, fetched, frame):
            query = {"user": "U0ALICE", "channel": OPS}
            async with http.get(f"{slack.url}/_ui/api/state", params=query, headers=headers) as a:
                assert a.status == 403, headers
            async with http.get(f"{slack.url}/ui/", headers=headers) as a:
                assert a.status == 403, headers
        # The Socket Mode link, opened by a page elsewhere, would take the bot's events.
        opened = await web.apps_connections_open(app_token=slack.app_token)
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(str(opened["url"]), headers={"Origin": EVIL})
        assert refused.value.status == 403
        # A link to the chat from another site still opens it.
        async with http.get(f"{slack.url}/ui/", headers=link) as a:
            assert a.status == 200
    assert slack.messages(channel=OPS) == []
    assert await web.chat_postMessage(channel=OPS, text="slack_sdk still posts")


async def test_no_page_of_it_may_be_framed_by_another_site(slack: LocalSlack) -> None:
    """A browser that does not say what a request is for (no ``Sec-Fetch-Dest``) could
    show the chat in a frame on another site and have Approve clicked through it; every
    answer now tells the browser not to frame it."""
    async with aiohttp.ClientSession() as http:
        for path in ("/ui/", "/_ui/api/bootstrap", "/nowhere"):
            async with http.get(f"{slack.url}{path}") as answer:
                assert answer.headers.get("X-Frame-Options") == "DENY", path
                policy = answer.headers.get("Content-Security-Policy", "")
                assert "frame-ancestors 'none'" in policy, path
