"""Socket Mode on its own thread, with the ack moved to where it is safe.

Bolt acks an event *before* its listener runs, so a crash right after the ack would lose
the message. Here ``events_api`` envelopes bypass Bolt's dispatch: the message is written
durably to the thread inbox first, then the envelope is acked on the socket.

The socket client runs on a dedicated thread and event loop, so an ack never waits
behind the engine's turns (their fsyncs and model calls run on the main loop).
Interactions and slash commands are handed to Bolt on the main loop, where the engine
lives; they ack within 3 s and do their work after.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app, send_async_response
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from .ingest import EventIngest, StillStoring

__all__ = ["SignoffSocketModeHandler", "SocketThread"]

log = logging.getLogger("signoff.socket")
T = TypeVar("T")


class SignoffSocketModeHandler(AsyncSocketModeHandler):
    def __init__(
        self,
        app: AsyncApp,
        app_token: str,
        ingest: EventIngest,
        *,
        app_loop: asyncio.AbstractEventLoop | None = None,
        ping_interval: float = 10,
    ) -> None:
        super().__init__(app, app_token=app_token, ping_interval=ping_interval)
        self.ingest = ingest
        self.app_loop = app_loop
        self.accepting = True

    # Bolt narrows the client type the same way (and silences mypy the same way).
    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        if not self.accepting:
            return  # shutting down: whatever is not acked, Slack delivers again
        if req.type != "events_api":
            await self._bolt(client, req)
            return
        try:
            outcome = await self.ingest.handle(req.payload)
        except StillStoring:
            log.info(
                "event %s is still being stored; leaving this copy unacked",
                req.payload.get("event_id"),
            )
            return
        except Exception:
            log.exception(
                "could not store event %s; leaving it unacked", req.payload.get("event_id")
            )
            return
        log.debug("event %s: %s", req.payload.get("event_id"), outcome)
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))

    async def _bolt(self, client: SocketModeClient, req: SocketModeRequest) -> None:
        if self.app_loop is None or self.app_loop is asyncio.get_running_loop():
            await super().handle(client, req)
            return
        start = time.time()
        dispatched = asyncio.run_coroutine_threadsafe(
            run_async_bolt_app(self.app, req), self.app_loop
        )
        response = await asyncio.wrap_future(dispatched)
        await send_async_response(client, req, response, start)


class SocketThread:
    """A thread with its own event loop that owns the Socket Mode handler."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="signoff-socket", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        # Inbox writes wait on fsync, which releases the GIL: with more of them in flight
        # the filesystem commits them together, so a burst is stored faster.
        self.loop.set_default_executor(
            ThreadPoolExecutor(max_workers=32, thread_name_prefix="signoff-ingest")
        )
        self.loop.run_forever()
        self.loop.close()

    def start(self) -> None:
        # The engine's turns are CPU work on the main thread; a shorter GIL switch interval
        # (default 5 ms) lets the socket thread in sooner, which halves the ack p99 under
        # load. It is process-wide, and this process is the bot.
        sys.setswitchinterval(0.0005)
        self._thread.start()

    async def call(self, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` on the socket thread's loop and wait for it from the caller's."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self.loop))

    async def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        await asyncio.to_thread(self._thread.join, 10)
