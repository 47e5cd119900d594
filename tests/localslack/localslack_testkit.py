"""Helpers shared by the LocalSlack tests (a uniquely named module, importable because pytest
puts this rootless test directory on sys.path)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from localslack import LocalSlack

__all__ = ["PROXY_VARS", "Inbox", "close_client", "connect_socket_client", "running_bolt"]

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")


class Inbox:
    """Collects what a SocketModeClient receives; acks envelopes unless told not to."""

    def __init__(self, *, ack: bool = True) -> None:
        self.ack = ack
        self.frames: list[dict[str, Any]] = []
        self.requests: list[SocketModeRequest] = []
        self._changed = asyncio.Event()

    async def on_frame(
        self, client: AsyncBaseSocketModeClient, message: dict[str, Any], raw: str | None
    ) -> None:
        self.frames.append(message)
        self._changed.set()

    async def on_request(self, client: AsyncBaseSocketModeClient, req: SocketModeRequest) -> None:
        self.requests.append(req)
        if self.ack:
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
        self._changed.set()

    def events(self, event_type: str) -> list[dict[str, Any]]:
        return [
            r.payload
            for r in self.requests
            if r.type == "events_api" and r.payload["event"]["type"] == event_type
        ]

    async def wait_until(
        self,
        condition: Callable[[], bool],
        *,
        timeout: float = 3.0,
    ) -> None:
        async with asyncio.timeout(timeout):
            while not condition():
                self._changed.clear()
                await self._changed.wait()


async def connect_socket_client(
    slack: LocalSlack, inbox: Inbox, *, ping_interval: float = 5
) -> SocketModeClient:
    web = AsyncWebClient(base_url=slack.api_url)
    client = SocketModeClient(
        app_token=slack.app_token, web_client=web, ping_interval=ping_interval
    )
    client.message_listeners.append(inbox.on_frame)
    client.socket_mode_request_listeners.append(inbox.on_request)
    await client.connect()  # type: ignore[no-untyped-call]  # unannotated in slack_sdk
    await slack.wait_for_sockets(1)
    return client


async def close_client(client: SocketModeClient) -> None:
    await client.close()  # type: ignore[no-untyped-call]  # unannotated in slack_sdk


@contextlib.asynccontextmanager
async def running_bolt(slack: LocalSlack) -> AsyncIterator[AsyncApp]:
    """A real Bolt AsyncApp connected over Socket Mode; register listeners on it."""
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    bolt = AsyncApp(client=client)
    handler = AsyncSocketModeHandler(bolt, app_token=slack.app_token)
    await handler.connect_async()  # type: ignore[no-untyped-call]  # unannotated in bolt
    await slack.wait_for_sockets(1)
    try:
        yield bolt
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]  # unannotated in bolt
