"""The bot on Socket Mode, wired from validated settings (``signoff run`` and ``dev`` run it).

Start-up: ``auth.test`` (who am I), open the engine, recover (design flow 7), connect,
then expire what came due while no bot ran.
While running, the engine delivers its outbox to Slack, and a sweep every few seconds
expires due requests and re-wakes any thread whose work is still queued.
On SIGTERM or SIGINT: stop taking envelopes (Slack redelivers what was not acked), close
the Socket Mode link so that it cannot reconnect, let running turns reach a durable point
for ``SIGNOFF_DRAIN_S``, then close. Nothing is lost if the drain runs out: recovery
continues it on the next start.

While a turn runs the thread shows it (``live_view``: status line, agent session, the
model's text streamed); a stop clicked in Slack reaches ``Engine.stop`` (``stop_events``).

Operators get ``/healthz``, ``/readyz`` and ``/metrics`` on ``SIGNOFF_HTTP`` (``ops_http``),
counted from the events every part reports to one observer (``metrics``, ``event_log``).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta

import aiohttp
from slack_bolt.app.async_app import AsyncApp

from agent_core.backoff import Backoff
from agent_core.engine import Engine
from agent_core.observe import guarded
from approvals import Installation
from sessions import Clock, Home, HomeViewers, SystemClock

from .actions import register_actions
from .channel_check import check_approvals_channel
from .commands import register_commands
from .config import ConfigError, Settings
from .damaged_index import set_aside_damaged_index
from .event_log import EventLog
from .event_payloads import MessageEvent
from .fallback import register_fallbacks
from .group_changes import follow_group_changes
from .groups import SlackGroups
from .home_tab import HomeTab
from .ingest import EventIngest
from .live_streams import LiveStreams
from .live_view import SlackLiveView
from .logs import log_event
from .metrics import Metrics
from .ops_http import OpsServer, bot_ops_server
from .reactions import react_taken
from .shutdown import drain_and_close
from .socket import SignoffSocketModeHandler
from .socket_thread import SocketThread
from .stop_events import AgentStops
from .surface_support import SurfaceSupport
from .token_check import who_am_i
from .token_watch import BotTokenWatch
from .tooling import open_engine
from .user_teams import Origins, UserTeams
from .web_clients import kept_alive, live_client, slack_surface, web_client

__all__ = ["SignoffBot"]

log = logging.getLogger("signoff")

# Waited for a terminal's claim on the outbox (it delivers what it queued) before saying so.
CLAIM_PATIENCE = timedelta(seconds=30)


@dataclass
class SignoffBot:
    engine: Engine
    app: AsyncApp
    handler: SignoffSocketModeHandler
    ingest: EventIngest
    socket: SocketThread
    metrics: Metrics
    live: SlackLiveView | None = None
    ops: OpsServer | None = None
    home_tab: HomeTab | None = None
    sweep_every: float = 5.0
    drain_s: float = 20.0
    # `signoff dev` carries on without operator HTTP when its port is taken; `run` stops.
    http_required: bool = True
    http: aiohttp.ClientSession | None = None
    _sweeper: asyncio.Task[None] | None = field(default=None, init=False, repr=False)
    _stopped: bool = field(default=False, init=False, repr=False)

    @classmethod
    async def build(
        cls,
        settings: Settings,
        *,
        clock: Clock | None = None,
        ping_interval: float = 10,
        http_required: bool = True,
        retry_scale: float = 1.0,
        model_retry_scale: float = 1.0,
    ) -> SignoffBot:
        """``retry_scale`` scales every wait between retries of Slack (its client's, after a
        dropped connection or a 5xx, and the outbox's delivery), ``model_retry_scale``
        those between a failed model call's attempts (a wait the provider asks for is its
        own): tests wait a tenth."""
        bot_token, app_token = settings.slack_tokens()
        metrics = Metrics()
        home = Home(settings.home)
        home_tab = HomeTab(viewers=HomeViewers(home, clock=clock or SystemClock()))
        bot_token_watch = BotTokenWatch()
        observer = guarded([metrics, EventLog(), home_tab, bot_token_watch])
        client = web_client(
            bot_token.get_secret_value(),
            settings.slack_api_url,
            observer=observer,
            timeout=settings.slack_timeout_s,
            retry_scale=retry_scale,
        )
        bot_token_watch.probe = client.auth_test  # a quiet bot's token is asked about
        support = SurfaceSupport()
        # Kept-alive connections for the calls every turn makes (status, stream, post); the
        # app's own client also serves the socket thread's loop, so it keeps its own.
        http = kept_alive(settings)
        shown = live_client(settings, observer=observer, session=http)
        streams = LiveStreams(shown, home=home, support=support, clock=clock)
        surface = slack_surface(settings, observer=observer, streams=streams, session=http)
        live = SlackLiveView(
            shown,
            streams=streams,
            support=support,
            react=lambda channel, ts: surface.working(channel=channel, ts=ts),
        )
        groups = SlackGroups(client)
        # Tools and policy first: a configuration mistake stops here, before any network.
        try:
            await set_aside_damaged_index(home)  # then rebuilt as the engine opens
            engine = await open_engine(
                settings,
                surface=surface,
                clock=clock,
                groups=groups,
                observer=observer,
                live=live,
                delivery_backoff=None if retry_scale == 1.0 else Backoff().scaled(retry_scale),
                model_retry_scale=model_retry_scale,
            )
        except BaseException:
            await http.close()
            raise
        live.requeue = lambda thread, key: engine.queue_status(thread, key=key)
        if engine.delivery is not None:
            engine.delivery.claim_patience = CLAIM_PATIENCE
        socket: SocketThread | None = None
        try:
            me = await who_am_i(client)
            await check_approvals_channel(client, settings.approvals_channel)
            streams.messages.bot_id = str(me.get("bot_id") or "")
            surface.bot_user = str(me["user_id"])
            # Named: without a name Bolt calls inspect.stack(), which resolves the path
            # of every loaded module for every frame (42k lstat calls at each start-up).
            # Not "signoff": Bolt configures the logger of that name on every request.
            # Handed slack_bolt's logger, every logger Bolt makes copies its level (kept at
            # ERROR by bot/logs.py: Bolt's warnings quote whole payloads); else each gets
            # the root's.
            app = AsyncApp(
                name="signoff-bolt",
                client=client,
                logger=logging.getLogger("slack_bolt"),
                process_before_response=False,
            )
            # "Anyone" in a policy is anyone of this organization (a Slack Connect guest's
            # click names theirs); on Enterprise Grid a click names the enterprise.
            installed = Installation(
                team=str(me.get("team_id") or ""), enterprise=str(me.get("enterprise_id") or "")
            )
            # A stop, a Home and /signoff pending name no team: asked of users.info.
            teams = UserTeams(client)
            origins = Origins(teams, installed)
            home_tab.bind(engine, client, bot_user=str(me["user_id"]), origins=origins)
            register_actions(app, engine, home=home_tab, installation=installed)
            register_commands(app, engine, client, origins=origins)
            register_fallbacks(app)  # last: Bolt runs the first listener that matches

            async def taken(event: MessageEvent) -> None:
                if not support.offers("status"):  # else the status line shows it is taken
                    # On the socket thread's loop: the app's client (the surface's
                    # session is the main loop's, and refused to time a call here).
                    await react_taken(client, channel=event.channel, ts=event.ts)

            ingest = EventIngest(
                engine,
                home=home,
                clock=clock or SystemClock(),
                bot_user_id=str(me["user_id"]),
                bot_id=str(me.get("bot_id") or ""),
                on_taken=taken,
                on_home_opened=home_tab.opened,
                on_group_changed=follow_group_changes(groups=groups, home_tab=home_tab),
            )
            socket = SocketThread()
            socket.start()
            app_secret = app_token.get_secret_value()
            app_loop = asyncio.get_running_loop()
            stops = AgentStops(
                engine,
                keeper=ingest.keeper,
                app_loop=app_loop,
                teams=teams,
                installation=installed,
            )

            async def make_handler() -> SignoffSocketModeHandler:
                # Built on the socket thread: the client binds to the loop it is created in.
                return SignoffSocketModeHandler(
                    app,
                    app_secret,
                    ingest,
                    app_loop=app_loop,
                    ping_interval=ping_interval,
                    observer=observer,
                    controls=stops,
                )

            handler = await socket.call(make_handler())
        except BaseException:
            if socket is not None:
                await socket.stop()
            await engine.close()
            await http.close()
            raise
        # Until the engine has a counting method of its own, the index answers.
        metrics.bind(counts=engine.tally, link_up=lambda: handler.client.link_problem() is None)
        ops = None
        if (bind := settings.http_bind) is not None:
            ops = bot_ops_server(
                bind,
                metrics=metrics,
                home=home,
                link_problem=lambda: handler.client.link_problem(),
                index=engine,
                slack=bot_token_watch.check,
                delivery=engine.delivery,
            )
        return cls(
            engine=engine,
            app=app,
            handler=handler,
            ingest=ingest,
            socket=socket,
            metrics=metrics,
            live=live,
            ops=ops,
            drain_s=settings.drain_s,
            http_required=http_required,
            home_tab=home_tab,
            http=http,
        )

    async def start(self) -> None:
        if self.ops is not None:
            try:
                await self.ops.start()
            except ConfigError as exc:
                if self.http_required:
                    raise
                log.warning("%s; carrying on without /healthz, /readyz and /metrics", exc)
                self.ops = None
        if self.live is not None:
            # Streams a stopped process left: finalized by their reply's delivery, or gone.
            self.live.streams.spawn(self.live.streams.sweep())
        counts = await self.engine.recover(sweep=False)
        if self.live is not None:
            # What the last process may have left a thread's agent session showing.
            recent = await self.engine.recent_threads()
            self.live.show_recorded(recent, self.engine.agent_status)
        await self.socket.call(self.handler.connect_async())  # type: ignore[no-untyped-call]
        if self.handler.client.refused is not None:
            raise ConfigError(self.handler.client.refused)
        # Linked first: expiring costs ~15 ms a request, and a click is judged at its time.
        counts |= await self.engine.after_recovery()
        log_event(log, "recovered", data=counts)
        self._sweeper = asyncio.create_task(self._sweep_forever())

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_every)
            try:
                await self.engine.sweep()
                if self.home_tab is not None:  # a change no event told it of
                    await self.home_tab.look_again()
                if self.live is not None:  # streams Slack would not take away yet
                    await self.live.streams.sweep()
            except Exception:
                log.exception("sweep failed; trying again later")

    async def stop(self, *, grace: float | None = None, hurry: asyncio.Event | None = None) -> None:
        """Drain, then close everything ``build`` and ``start`` opened; safe to call twice
        and after a failed ``start``.

        No new work is taken and the Socket Mode link is closed for good first (what is
        not acked, Slack delivers again later); running turns get ``grace`` seconds
        (``SIGNOFF_DRAIN_S``), or until ``hurry`` is set (a second signal), then are cut
        where they stand, for recovery to continue.
        """
        if self._stopped:
            return
        self._stopped = True
        grace = self.drain_s if grace is None else grace
        self.handler.accepting = False
        if self._sweeper is not None:
            self._sweeper.cancel()
        failure = await drain_and_close(self, grace=grace, hurry=hurry)
        if failure is not None:
            raise failure
