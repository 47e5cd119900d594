"""The Socket Mode link: whether it is up, and a way to stop it that stays stopped.

Up means: Slack said ``hello`` on the session the client holds now, and that session has
not closed since; or the session Slack last said ``hello`` on is being replaced (Slack's
routine refresh) and is still read beside its successor, which has not said ``hello``
yet. A drop without a close frame (a dead network) shows as the session's ``closed``
flag, which aiohttp sets as soon as the read fails; a stale link (pings unanswered) as
the client's ``stale`` flag. Readiness and ``signoff_socket_connected`` read this at
request time, so they never lag behind an event that was not delivered.

``stop()`` is the drain's first step. The SDK reconnects from four places (its monitor,
a close frame, a ``disconnect`` envelope, a reconnect already in flight); marking the
client closed turns off the first three. For the fourth, no new link is asked of Slack
once stopped (a reconnect may have passed its check and be waiting on the connect lock),
and ``connect`` below closes whatever a handshake already under way still opens.

Two ``disconnect`` reasons refuse the link until something outside signoff changes:
``link_disabled`` (Socket Mode turned off in the app's settings) and
``too_many_websockets`` (the app holds as many connections as Slack allows, 10, in other
processes). The SDK reconnects at once on every ``disconnect`` whatever its reason, and was
refused again, in a loop with no pause, for as long as that lasted. Here each is said once,
at WARNING, and ``/readyz`` says it; the link is tried again at once (a toggle flipped
back, a slot freed), then after ``ping_interval``, doubling up to 30 of them (5 minutes at
the default 10 s), until a ``hello``. The process does not exit: it still delivers replies
and cards, runs approved calls and expires requests, and a supervisor restarting it would
only meet the same refusal. A reason Slack added since (its list is open) is a refusal too
when it ends a link before that link's ``hello``: a refresh would have followed one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import aiohttp
from aiohttp import ClientWebSocketResponse, WSMessage

from agent_core.backoff import Backoff
from agent_core.observe import NullObserver, Observer, SocketLinkChanged

from .link_asks import REFUSALS, ROUTINE, NoLink, ask_for_link, refusal, upgrade_failure
from .link_count import LinkCount
from .link_handover import HandingOverClient

__all__ = ["SignoffSocketModeClient"]

log = logging.getLogger("signoff.socket")
# How long a stop waits for Slack to answer the link's close frame.
_CLOSE_WITHIN = 1.0


class _Stopped(Exception):
    """A new link was about to be asked for after ``stop()``."""


class SignoffSocketModeClient(HandingOverClient):
    def __init__(self, *, observer: Observer | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.observer: Observer = observer or NullObserver()
        self._hello_session: object | None = None
        self._greeted = False  # a hello ever came: a refusal after that is retried
        self._why_down: str | None = None  # a disconnect frame's reason, until connect
        self._told_down: object | None = None  # the greeted session whose loss was logged
        # Why start-up must end: Slack refused the app token before any hello.
        self.refused: str | None = None
        self._no_link: str | None = None  # why the last ask for a link failed, until one works
        self._told_no_link: str | None = None  # the one logged, until a hello
        self._disabled = 0  # refusals (_on_frame) since the last hello
        self._refused_by = ""  # the reason of the last one, "" once linked
        self._retry_at = 0.0  # the loop's time before which no new link is asked for
        self._link_count = LinkCount()  # another process on the app token, at hello
        self._stopping = asyncio.Event()
        self.disabled_backoff = Backoff(initial=self.ping_interval, maximum=30 * self.ping_interval)
        # Each try at an upgrade gets a fresh URL (``_dial_fresh``).
        self._dial = self.aiohttp_client_session.ws_connect
        self.aiohttp_client_session.ws_connect = self._dial_fresh  # type: ignore[method-assign,assignment]
        self.message_listeners.append(self._on_message)
        self.on_message_listeners.append(self._on_frame)
        self.on_close_listeners.append(self._on_close)

    def link_problem(self) -> str | None:
        """None while the link is up; otherwise what is wrong, for ``/readyz``."""
        problem = self._state()
        if problem is None or self.closed or self._disabled or self._no_link is None:
            return problem
        return f"socket mode: {self._no_link}; asking again"

    def _state(self) -> str | None:
        session = self.current_session
        if self.closed:
            return "socket mode: stopped"
        if self._disabled:
            return f"socket mode: {refusal(self._refused_by)[0]}; trying again"
        greeted = self._hello_session
        if greeted is not session and self.handing_over(greeted) and not self.stale:
            return None  # replaced, read on until its successor says hello: it delivers
        if session is None or greeted is None:
            return "socket mode: not connected yet (no hello received)"
        if session is not self._hello_session:
            return "socket mode: reconnecting (no hello on the new connection yet)"
        if session.closed:
            return "socket mode: connection lost"
        if self.stale:
            return "socket mode: connection stale (pings unanswered)"
        return None

    async def _on_message(self, client: Any, message: dict[str, Any], raw: str | None) -> None:
        if message.get("type") == "hello":
            self._hello_session = self.current_session
            self._greeted = True
            self._no_link = self._told_no_link = None
            self._link_count.hello(message.get("num_connections"), replaced=self.replaced_links())
            if self._disabled:
                log.info("Slack takes the link again (%s before): linked", self._refused_by)
                self._disabled, self._refused_by, self._retry_at = 0, "", 0.0
            self.observer.emit(SocketLinkChanged(up=True, reason="hello"))

    async def _on_frame(self, message: WSMessage) -> None:
        """Every text frame as it is read, before the next one: Slack closes the link right
        after a refusal, and the close's reconnect must already find the pause."""
        data = message.data
        # A disconnect frame is small: an envelope that quotes the word is not parsed twice.
        if not (isinstance(data, str) and len(data) < 512 and "disconnect" in data):
            return
        with contextlib.suppress(ValueError):
            frame = json.loads(data)
            if not (isinstance(frame, dict) and frame.get("type") == "disconnect"):
                return
            reason = str(frame.get("reason", ""))[:40]
            # A reason Slack added since, on a link that had no hello: refused, not replaced.
            unknown = reason not in ROUTINE and self.current_session is not self._hello_session
            if reason in REFUSALS or unknown:
                self._refused(reason)

    def _refused(self, reason: str) -> None:
        self._disabled += 1
        if reason != self._refused_by:  # once for each reason in a row of refusals
            self._refused_by = reason
            log.warning(
                "%s. Replies and timers go on; the link is tried again at once, then after "
                "%g s, doubling up to every %g s",
                refusal(reason)[1],
                self.disabled_backoff.initial,
                self.disabled_backoff.maximum,
            )
        if self._disabled == 1:
            return
        delay = self.disabled_backoff.delay(self._disabled - 1)
        self._retry_at = asyncio.get_running_loop().time() + delay

    async def run_message_listeners(self, message: dict[str, Any], raw_message: str) -> None:
        if message.get("type") == "disconnect":
            # The SDK reconnects on a disconnect before any listener sees the frame: keep
            # Slack's reason (link_disabled, refresh_requested, ...) for the line ``connect``
            # writes when it replaces the link.
            reason = str(message.get("reason", ""))[:40]
            self._why_down = f"disconnect: {reason}"
            if self._disabled and reason == self._refused_by:  # as _on_frame found
                # Not the SDK's forced reconnect: it would take a second link beside the
                # close's. This link is done: closed, it is replaced after the pause.
                session = self.current_session
                if session is not None and not session.closed:
                    await session.close()
                await self.connect_to_new_endpoint()
                return
            if reason in ROUTINE:
                await self._replace_routinely()
                return
        await super().run_message_listeners(message, raw_message)

    async def _on_close(self, message: WSMessage) -> None:
        if not self.closed:  # once for a link that was up, not for each refused one
            self._link_down("closed by the server")

    async def connect(self) -> None:
        if self.closed:
            return
        previous = self.current_session
        why, self._why_down = self._why_down, None
        if previous is not None and previous is self._hello_session:
            if self.handing_over(previous):
                # Slack's routine refresh: read on beside the next link, it still delivers.
                self.observer.emit(
                    SocketLinkChanged(up=True, reason=why or "refresh", handover=True)
                )
            else:  # lost or stale
                self._link_down(why)
                self._hello_session = None
        await super().connect()
        session = self.current_session
        if self.closed and session is not None and not session.closed:
            # A reconnect that was in flight when stop() ran: do not keep its connection.
            await session.close()

    def _let_go(self, old: ClientWebSocketResponse) -> None:
        super()._let_go(old)
        nearly = self.current_session is not None and not self.current_session.closed
        if old is self._hello_session and not self.closed and not nearly:
            # Slack closed the replaced link before the next one was open: now it is down.
            # (One open but for its hello is "reconnecting"; lost before it, it is told.)
            self._link_down("closed by the server before the next link came up")
            self._hello_session = None

    def _link_down(self, why: str | None) -> None:
        """socket_down, once for each link that was up: said when its replacement begins,
        not when one is had (Slack may give none for as long as an outage lasts); a link
        being handed over still delivers, and is down only once it is let go."""
        if self.handing_over(self._hello_session):
            return
        if self._hello_session is not None and self._told_down is not self._hello_session:
            self._told_down = self._hello_session
            self.observer.emit(SocketLinkChanged(up=False, reason=why or "reconnecting"))

    async def issue_new_wss_url(self) -> str:
        if self.closed:  # no new link; the stop says its own socket_down
            raise _Stopped
        # Every reconnect passes here (a disconnect, a close, the monitor): while Socket
        # Mode is off, none asks before its time. A stop ends the pause.
        pause = self._retry_at - asyncio.get_running_loop().time()
        if pause > 0:
            await self._pause(pause)
        if self.closed:
            raise _Stopped
        self._link_down(self._why_down)
        while True:
            try:
                url = await ask_for_link(self.web_client, app_token=str(self.app_token))
            except NoLink as failed:
                if failed.for_good and not self._greeted:
                    # Marked closed, the SDK's connect loop stops instead of retrying forever.
                    self.refused = failed.why
                    self.closed = True
                    raise
                # Asked again here, not by the SDK's loops: they log each failure as an ERROR.
                self._no_link = failed.why
                wait = failed.retry_after or self.ping_interval  # a 429's Retry-After
                self._tell_no_link(failed.why, wait=wait)
                await self._pause(wait)
                if self.closed:
                    raise _Stopped from None
                continue
            self._no_link = None
            return url

    async def _dial_fresh(self, url: str, **options: Any) -> ClientWebSocketResponse:
        """The SDK's upgrade, tried until one works or the link is stopped, each time with a
        fresh URL: the SDK tried the one it had again, forever, and an upgrade that failed
        (an edge or a proxy in the way) may have spent it (Slack's URLs are good once)."""
        while True:
            try:
                link: ClientWebSocketResponse = await self._dial(url, **options)
                return link
            except (aiohttp.ClientError, OSError) as exc:
                if self.closed:
                    raise
                self._no_link = (
                    f"Slack's Socket Mode endpoint gave no link ({upgrade_failure(exc)})"
                )
                self._tell_no_link(self._no_link, wait=self.ping_interval)
                await self._pause(self.ping_interval)
                if self.closed:
                    raise _Stopped from None
                url = self.wss_uri = await self.issue_new_wss_url()

    def _tell_no_link(self, why: str, *, wait: float) -> None:
        if why != self._told_no_link:  # once for each answer in a row of them
            self._told_no_link = why
            log.warning(
                "%s: no message, click or command reaches signoff until it gives one; "
                "replies and timers go on, and the link is asked for again in %g s, and on",
                why,
                wait,
            )

    async def _pause(self, seconds: float) -> None:
        """Wait ``seconds``, or less if the link is stopped meanwhile."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stopping.wait()

    async def connect_to_new_endpoint(self, force: bool = False) -> None:
        if self.closed:
            return
        try:
            await super().connect_to_new_endpoint(force=force)
        except _Stopped:  # stopped while it waited for the connect lock
            pass

    async def stop(self) -> None:
        """Close the link for good: no reconnect from any path, the sockets closed."""
        self._stopping.set()
        self.default_auto_reconnect_enabled = False
        self.auto_reconnect_enabled = False
        was_up = self.link_problem() is None
        try:
            async with asyncio.timeout(_CLOSE_WITHIN):
                await self.close()
        except TimeoutError:
            # Slack did not answer the close frame (a network gone silent): aiohttp would
            # wait 10 s for it, before the drain even begins. The cut dropped the
            # connection; the rest of the close waits on nothing.
            await self.close()
        if was_up:
            self.observer.emit(SocketLinkChanged(up=False, reason="stopping"))
