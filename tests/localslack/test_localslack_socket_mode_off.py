"""Socket Mode turned off in the app's settings, on the wire: each connection is sent a
``disconnect`` with reason ``link_disabled`` and closed, and so is every new one until it
is turned on again; envelopes wait meanwhile."""

from __future__ import annotations

import json

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from localslack import LocalSlack

LINK_DISABLED = {
    "type": "disconnect",
    "reason": "link_disabled",
    "debug_info": {"host": "applink-localslack"},
}


async def _connect(
    slack: LocalSlack, session: aiohttp.ClientSession
) -> aiohttp.ClientWebSocketResponse:
    app_client = AsyncWebClient(token=slack.app_token, base_url=slack.api_url)
    url = (await app_client.apps_connections_open(app_token=slack.app_token))["url"]
    return await session.ws_connect(url)


async def _closes(ws: aiohttp.ClientWebSocketResponse) -> bool:
    closing = await ws.receive(timeout=2)
    return closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_socket_mode_off_refuses_every_link_until_it_is_on_again(slack: LocalSlack) -> None:
    async with aiohttp.ClientSession() as session:
        ws = await _connect(slack, session)
        assert json.loads((await ws.receive()).data)["type"] == "hello"
        assert len(await slack.set_socket_mode(enabled=False)) == 1
        assert json.loads((await ws.receive(timeout=2)).data) == LINK_DISABLED
        assert await _closes(ws)
        # Off: a new link is refused on the wire, and what happens meanwhile waits.
        await slack.post_message(channel="C0OPS", user="U0BOB", text="while it is off")
        again = await _connect(slack, session)
        assert json.loads((await again.receive(timeout=2)).data) == LINK_DISABLED
        assert await _closes(again)
        assert slack.sockets() == []
        assert slack.deliveries(type="events_api")[0].status == "queued"
        # On again: hello, and the held envelope comes.
        assert await slack.set_socket_mode(enabled=True) == []
        back = await _connect(slack, session)
        assert json.loads((await back.receive(timeout=2)).data)["type"] == "hello"
        envelope = json.loads((await back.receive(timeout=2)).data)
        assert envelope["type"] == "events_api"
        await back.close()
