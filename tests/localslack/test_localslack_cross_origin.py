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
