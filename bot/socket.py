"""Socket Mode with the ack moved to where it is safe.

Bolt acks an event *before* its listener runs, so a crash right after the ack would lose
the message. Here ``events_api`` envelopes bypass Bolt's dispatch: the message is written
durably to the thread inbox first, then the envelope is acked on the socket. Interactions
and slash commands go through Bolt as usual (they ack within 3 s and work after).
"""

from __future__ import annotations

import logging

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from .ingest import EventIngest

__all__ = ["SignoffSocketModeHandler"]

log = logging.getLogger("signoff.socket")


class SignoffSocketModeHandler(AsyncSocketModeHandler):
    def __init__(
        self, app: AsyncApp, app_token: str, ingest: EventIngest, *, ping_interval: float = 10
    ) -> None:
        super().__init__(app, app_token=app_token, ping_interval=ping_interval)
        self.ingest = ingest
        self.accepting = True

    # Bolt narrows the client type the same way (and silences mypy the same way).
    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        if not self.accepting:
            return  # shutting down: whatever is not acked, Slack delivers again
        if req.type != "events_api":
            await super().handle(client, req)
            return
        try:
            outcome = await self.ingest.handle(req.payload)
        except Exception:
            log.exception(
                "could not store event %s; leaving it unacked", req.payload.get("event_id")
            )
            return
        log.debug("event %s: %s", req.payload.get("event_id"), outcome)
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
