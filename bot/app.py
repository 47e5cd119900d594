"""``signoff run``: the bot on Socket Mode, wired from validated settings.

Start-up: ``auth.test`` (who am I), open the engine, recover (design flow 7), connect.
While running, a sweep expires due requests and re-posts cards that failed to post.
On SIGTERM or SIGINT: stop taking envelopes (Slack redelivers what was not acked), let
running turns reach a durable point for a grace period, then close. Nothing is lost if
the grace period runs out: recovery continues it on the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass

from slack_bolt.app.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from agent_core.engine import Engine
from sessions import Clock

from .actions import register_actions
from .commands import register_commands
from .config import ConfigError, Settings
from .groups import SlackGroups
from .ingest import EventIngest
from .payloads import MessageEvent
from .slack_surface import SlackSurface
from .socket import SignoffSocketModeHandler, SocketThread
from .tooling import open_engine

__all__ = ["SignoffBot", "run_bot", "web_client"]

log = logging.getLogger("signoff")


def web_client(token: str, base_url: str | None) -> AsyncWebClient:
    """A client that honours Retry-After on 429 and retries connection and 5xx errors."""
    return AsyncWebClient(
        token=token,
        base_url=base_url or "https://slack.com/api/",
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=5),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


@dataclass
class SignoffBot:
    engine: Engine
    app: AsyncApp
    handler: SignoffSocketModeHandler
    ingest: EventIngest
    socket: SocketThread
    sweep_every: float = 30.0

    @classmethod
    async def build(
        cls, settings: Settings, *, clock: Clock | None = None, ping_interval: float = 10
    ) -> SignoffBot:
        if settings.slack_bot_token is None or settings.slack_app_token is None:
            raise ConfigError(
                "signoff run needs SLACK_BOT_TOKEN (xoxb-…) and SLACK_APP_TOKEN (xapp-…)"
            )
        client = web_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
        me = await client.auth_test()
        surface = SlackSurface(client)
        groups = SlackGroups(client)
        engine = await open_engine(settings, surface=surface, clock=clock, groups=groups)
        app = AsyncApp(client=client, process_before_response=False)
        register_actions(app, engine, surface)
        register_commands(app, engine, surface, groups)

        async def taken(event: MessageEvent) -> None:
            await surface.working(channel=event.channel, ts=event.ts)

        ingest = EventIngest(
            engine,
            bot_user_id=str(me["user_id"]),
            bot_id=str(me.get("bot_id") or ""),
            on_taken=taken,
        )
        socket = SocketThread()
        socket.start()
        app_token = settings.slack_app_token.get_secret_value()
        app_loop = asyncio.get_running_loop()

        async def make_handler() -> SignoffSocketModeHandler:
            # Built on the socket thread: the client binds to the loop it is created in.
            return SignoffSocketModeHandler(
                app, app_token, ingest, app_loop=app_loop, ping_interval=ping_interval
            )

        handler = await socket.call(make_handler())
        return cls(engine=engine, app=app, handler=handler, ingest=ingest, socket=socket)

    async def start(self) -> None:
        counts = await self.engine.recover()
        log.info("recovered: %s", counts)
        await self.socket.call(self.handler.connect_async())  # type: ignore[no-untyped-call]
        self._sweeper = asyncio.create_task(self._sweep_forever())

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_every)
            try:
                await self.engine.sweep()
                await self.engine.post_missing_cards()
            except Exception:
                log.exception("sweep failed; trying again later")

    async def stop(self, *, grace: float = 20.0) -> None:
        self.handler.accepting = False
        self._sweeper.cancel()
        with contextlib.suppress(Exception):
            await self.socket.call(self.handler.disconnect_async())  # type: ignore[no-untyped-call]
        try:
            await asyncio.wait_for(self.engine.idle(), timeout=grace)
        except TimeoutError:
            log.warning("turns still running after %.0fs; recovery will continue them", grace)
        await self.socket.call(self.ingest.drain())
        with contextlib.suppress(Exception):
            await self.socket.call(self.handler.close_async())  # type: ignore[no-untyped-call]
        await self.socket.stop()
        await self.engine.close()


async def run_bot(settings: Settings) -> int:
    bot = await SignoffBot.build(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await bot.start()
    print(f"signoff is running (data in {settings.home}); Ctrl-C or SIGTERM stops it", flush=True)
    await stop.wait()
    print("signoff: stopping: no new work; letting running turns finish", flush=True)
    await bot.stop()
    return 0
