"""Permalinks from chat.getPermalink open the message in the UI, as Slack's links do."""

from __future__ import annotations

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from localslack import LocalSlack


async def test_a_permalink_opens_the_message_and_its_thread(
    slack: LocalSlack, web: AsyncWebClient
) -> None:
    root = await web.chat_postMessage(channel="C0OPS", text="root")
    reply = await web.chat_postMessage(channel="C0OPS", text="reply", thread_ts=root["ts"])
    top = (await web.chat_getPermalink(channel="C0OPS", message_ts=root["ts"]))["permalink"]
    inner = (await web.chat_getPermalink(channel="C0OPS", message_ts=reply["ts"]))["permalink"]
    assert top == f"{slack.url}/archives/C0OPS/p{root['ts'].replace('.', '')}"
    async with aiohttp.ClientSession() as http:
        for link, thread in ((top, root["ts"]), (inner, root["ts"])):
            async with http.get(link, allow_redirects=False) as response:
                assert response.status == 302
                assert response.headers["Location"] == f"/ui/#c=C0OPS&t={thread}"
        for bad in ("/archives/C0OPS/x1", "/archives/c0ops/p1700000000000100"):
            async with http.get(slack.url + bad, allow_redirects=False) as response:
                assert response.status == 404
