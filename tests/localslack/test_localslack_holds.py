"""``hold_calls``: a call that reached Slack waits, untouched, until the test lets it go,
so two calls can be made to land in the order a slow network could give them."""

from __future__ import annotations

import asyncio

from slack_sdk.web.async_client import AsyncWebClient

from localslack import LocalSlack


async def test_a_held_call_lands_after_a_later_one(slack: LocalSlack, web: AsyncWebClient) -> None:
    held = slack.hold_calls(method="chat.postMessage", channel="C0OPS")
    first = asyncio.ensure_future(web.chat_postMessage(channel="C0OPS", text="sent first"))
    await held.wait_held()
    assert held.held[0]["text"] == "sent first"
    assert slack.calls("chat.postMessage") == []  # it has not run yet
    # The hold took its one call: the next one, and other channels', go straight through.
    await web.chat_postMessage(channel="C0OPS", text="sent second")
    await web.chat_postMessage(channel="C0GENERAL", text="elsewhere")
    held.release()
    answer = await first
    assert answer["ok"] is True
    texts = [m["text"] for m in slack.messages(channel="C0OPS")]
    assert texts.index("sent second") < texts.index("sent first")


async def test_a_stopping_server_lets_held_calls_go(slack: LocalSlack, web: AsyncWebClient) -> None:
    held = slack.hold_calls(method="auth.test")
    call = asyncio.ensure_future(web.auth_test())
    await held.wait_held()
    async with asyncio.timeout(5):  # a held call must not keep the server from stopping
        await slack.stop()
        await asyncio.gather(call, return_exceptions=True)
