"""LocalSlack: wires the services together and runs them on one aiohttp port."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from urllib.parse import urlencode

from aiohttp import web

from localslack import (
    methods_assistant,
    methods_chat,
    methods_conversations,
    methods_directory,
    methods_files,
    methods_reactions,
    methods_stream,
    methods_views,
)
from localslack.addons import Addons
from localslack.agent_sessions import AgentSessions
from localslack.chaos import Chaos
from localslack.config import WorkspaceConfig
from localslack.control_http import control_routes
from localslack.controls import Controls
from localslack.events import EventPublisher
from localslack.faults import FaultInjector
from localslack.home import HomeTabs
from localslack.ids import Clock, IdSource, TsSource, system_clock
from localslack.interactions import Interactions
from localslack.messages import MessageOps
from localslack.origin_guard import no_framing, origin_guard
from localslack.ratelimit import RateLimiter
from localslack.responseurl import ResponseUrls
from localslack.runtime import Runtime
from localslack.socketmode import SocketHub
from localslack.state import Workspace
from localslack.streams import Streams
from localslack.thread_status import ThreadStatuses
from localslack.ui import UiOptions
from localslack.views import Views
from localslack.webapi import Method, WebApi

__all__ = ["LocalSlack"]


def _all_methods() -> dict[str, Method]:
    return {
        **methods_directory.METHODS,
        **methods_chat.METHODS,
        **methods_conversations.METHODS,
        **methods_reactions.METHODS,
        **methods_views.METHODS,
        **methods_files.METHODS,
        **methods_assistant.METHODS,
        **methods_stream.METHODS,
    }


class LocalSlack(Controls):
    """A Slack workspace on loopback. Use `async with LocalSlack(config) as slack:` or
    start()/stop(). `clock` drives timestamps and expiries (response_url, triggers);
    `monotonic` drives rate-limit buckets. `state_file` keeps the workspace across restarts,
    `ui` configures the browser UI at /ui/, `routes` are the hosting app's own pages."""

    def __init__(
        self,
        config: WorkspaceConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock = system_clock,
        monotonic: Callable[[], float] = time.monotonic,
        state_file: str | Path | None = None,
        ui: UiOptions | None = None,
        routes: Iterable[web.AbstractRouteDef] = (),
    ) -> None:
        cfg = config or WorkspaceConfig()
        self.config = cfg
        self._host = host
        self._port = port
        rng = random.Random(cfg.seed)
        ids = IdSource(rng=rng, clock=clock)
        ts = TsSource(clock=clock)
        workspace = Workspace(config=cfg, ts=ts, clock=clock)
        chaos = Chaos(clock=clock)
        hub = SocketHub(config=cfg, ids=ids, clock=clock, rng=rng, chaos=chaos)
        events = EventPublisher(config=cfg, ids=ids, clock=clock, ts=ts, hub=hub, rng=rng)
        statuses = ThreadStatuses(clock=clock, watch=workspace.surface_watch)
        messages = MessageOps(
            config=cfg, workspace=workspace, events=events, ids=ids, statuses=statuses
        )
        views = Views(config=cfg, workspace=workspace, ids=ids, clock=clock)
        response_urls = ResponseUrls(
            config=cfg, workspace=workspace, messages=messages, ids=ids, clock=clock
        )
        interactions = Interactions(
            config=cfg,
            workspace=workspace,
            hub=hub,
            messages=messages,
            views=views,
            response_urls=response_urls,
        )
        self._rt = Runtime(
            config=cfg,
            clock=clock,
            ids=ids,
            workspace=workspace,
            hub=hub,
            events=events,
            messages=messages,
            views=views,
            response_urls=response_urls,
            interactions=interactions,
            statuses=statuses,
            sessions=AgentSessions(clock=clock, watch=workspace.surface_watch),
            streams=Streams(clock=clock, watch=workspace.surface_watch),
            homes=HomeTabs(config=cfg, workspace=workspace, ids=ids, events=events),
            chaos=chaos,
        )
        self._api = WebApi(
            runtime=self._rt,
            methods=_all_methods(),
            faults=FaultInjector(),
            limiter=RateLimiter(enabled=cfg.rate_limits, clock=monotonic),
        )
        self._runner: web.AppRunner | None = None
        # Change feed, state file, browser UI, extra routes: see addons.py.
        self.addons = Addons(self, state_file=state_file, ui=ui, routes=routes)

    # -- addresses ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if not self._rt.base_url:
            raise RuntimeError("LocalSlack is not started")
        return self._rt.base_url

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def bot_token(self) -> str:
        return self.config.bot_token

    @property
    def app_token(self) -> str:
        return self.config.app_token

    @property
    def workspace(self) -> Workspace:
        return self._rt.workspace

    # -- lifecycle ----------------------------------------------------------------------------

    def _build_app(self) -> web.Application:
        rt = self._rt
        app = web.Application(middlewares=[origin_guard(self._host)])
        app.on_response_prepare.append(no_framing)

        async def upload(request: web.Request) -> web.Response:
            return await methods_files.upload(rt, request)

        async def download(request: web.Request) -> web.Response:
            return await methods_files.download(rt, request)

        async def index(request: web.Request) -> web.Response:
            if "text/html" in request.headers.get("Accept", ""):
                raise web.HTTPFound("/ui/")  # a browser: show the UI
            return web.json_response({"ok": True, "service": "localslack", **self.describe()})

        app.router.add_route("*", "/api/{method}", self._api.handle)
        app.router.add_get("/link/", rt.hub.handle)
        app.router.add_get("/link", rt.hub.handle)
        app.router.add_post("/response/{token}", rt.response_urls.handle)
        app.router.add_post("/upload/{file_id}", upload)
        app.router.add_get("/files-pri/{key}/{name}", download)

        async def archive(request: web.Request) -> web.Response:
            # A permalink (chat.getPermalink) opens the message in the UI, as Slack's do.
            channel, stamp = request.match_info["channel"], request.match_info["p"]
            if not re.fullmatch(r"[A-Z0-9]{2,40}", channel) or not re.fullmatch(r"p\d{7,}", stamp):
                raise web.HTTPNotFound(text="not a permalink")
            ts = f"{stamp[1:-6]}.{stamp[-6:]}"
            thread = request.query.get("thread_ts") or ts
            raise web.HTTPFound(f"/ui/#{urlencode({'c': channel, 't': thread})}")

        app.router.add_get("/", index)
        app.router.add_get("/archives/{channel}/{p}", archive)
        app.router.add_routes(control_routes(self))
        self.addons.mount(app)
        return app

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("LocalSlack is already started")
        runner = web.AppRunner(self._build_app(), handle_signals=False, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        await site.start()
        self._runner = runner
        bound_port = runner.addresses[0][1]
        self._rt.base_url = f"http://{_public_host(self._host)}:{bound_port}"
        self._rt.response_urls.base_url = self._rt.base_url

    async def stop(self) -> None:
        if self._runner is None:
            return
        self._rt.workspace.watch.cancel_all()
        self._rt.workspace.ephemeral_watch.cancel_all()
        self._rt.workspace.surface_watch.cancel_all()
        await self._rt.chaos.close()
        await self._rt.hub.close()
        self._api.faults.release_hung()  # else the runner waits for them to answer
        self._api.holds.release_all()
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> LocalSlack:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


def _public_host(host: str) -> str:
    """Where a client on this machine reaches a server bound to ``host``: loopback for
    "every interface", an IPv6 address in brackets (``http://::1:80`` is no URL)."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host
