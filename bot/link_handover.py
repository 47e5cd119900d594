"""A link Slack is about to replace is read until Slack closes it, beside its replacement.

Slack says ``disconnect`` with reason ``warning`` about 10 s before it closes a link, and
``refresh_requested`` when it refreshes one, and advises opening the next link first (an
app may hold 10). slack_sdk closed the old link at once, before it opened the next: an
envelope Slack sent on it a moment before it read that close frame reached a client that
read nothing more but the close's answer (aiohttp drops what comes before it), and was
never acked: an event Slack delivered again, a click or a command it never does (the
person sees an error).

Here the next link is opened beside the old one, and the old one is read on (its
envelopes handled and acked on it) until Slack closes it, or ``OLD_LINK_KEPT`` seconds
pass, or the client stops. A link is taken as being replaced from the routine
``disconnect`` read on it, in frame order, and its later ``disconnect`` frames are not
acted on. Every envelope's ack goes on the link it was read on while that one is open.
The SDK's reader stops reading a link once it is no longer the client's current one, so
this client has a reader of its own (``receive_messages``), the same for every link.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from aiohttp import ClientWebSocketResponse, WSMessage, WSMsgType
from slack_sdk.socket_mode.aiohttp import SocketModeClient

from .link_asks import ROUTINE

__all__ = ["OLD_LINK_KEPT", "HandingOverClient"]

log = logging.getLogger("signoff.socket")
# The longest a replaced link is read on, waiting for Slack to close it (it warns ~10 s
# ahead); then it is closed here.
OLD_LINK_KEPT = 30.0


class HandingOverClient(SocketModeClient):
    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        # The link a routine disconnect was read on, until it is moved aside (``connect``).
        self._replacing: ClientWebSocketResponse | None = None
        # Replaced links still read, each with the task that closes it at the latest.
        self._old: dict[ClientWebSocketResponse, asyncio.Task[None]] = {}
        # The link each envelope was read on, until its ack is sent or the link is let go.
        self._came_on: dict[str, ClientWebSocketResponse] = {}

    def handing_over(self, session: object) -> bool:
        """Whether ``session`` is a link being replaced that is still read: it delivers."""
        if not isinstance(session, ClientWebSocketResponse) or session.closed:
            return False
        return session is self._replacing or session in self._old

    def _let_go(self, old: ClientWebSocketResponse) -> None:
        """A replaced link is closed and no longer read (Slack closed it, or it was kept
        too long, or the client stops)."""

    def replaced_links(self) -> int:
        """How many replaced links are still open beside the current one."""
        return sum(not old.closed for old in self._old)

    async def connect(self) -> None:
        old = self.current_session
        replacing, self._replacing = self._replacing, None
        if old is not None and old is replacing and not old.closed and not self.closed:
            # Neither closed (the SDK closes the current link first) nor its reader
            # cancelled (the SDK cancels the receiver it holds): kept, read on.
            self.current_session = None
            reader, self.message_receiver = self.message_receiver, None
            self._old[old] = asyncio.ensure_future(self._retire(old, reader))
        elif old is not None:
            self._forget(old)  # closed the SDK's way: its acks go on the next link
        await super().connect()  # type: ignore[no-untyped-call]

    async def _replace_routinely(self) -> None:
        """The next link a routine ``disconnect`` asks for, opened only if the link it was
        read on is still the current one once the connect lock is had. Slack may close
        that link right after: the close's reconnect, first to the lock, replaced it
        already, and the SDK's forced reconnect replaced that healthy successor too (a
        third link, the second closed by signoff with what Slack had sent on it)."""
        link = self._replacing
        async with self.connect_operation_lock:
            if self.closed or link is None or link is not self.current_session:
                return
            try:
                self.wss_uri = await self.issue_new_wss_url()
                await self.connect()
            except Exception as exc:  # the SDK's path logged it too; the type only (a URL)
                if self.closed:
                    return  # stopped meanwhile: no next link is wanted
                log.warning(
                    "the next Socket Mode link could not be opened (%s): it is tried again "
                    "once the old link closes",
                    type(exc).__name__,
                )

    async def _retire(
        self, old: ClientWebSocketResponse, reader: asyncio.Future[Any] | None
    ) -> None:
        """Wait for Slack to close a replaced link (its reader ends), then forget it."""
        try:
            if reader is not None:
                await asyncio.wait({reader}, timeout=OLD_LINK_KEPT)
            if not old.closed:
                log.info("Slack did not close a replaced link within %g s: closed", OLD_LINK_KEPT)
                await old.close()
        finally:
            if reader is not None:
                reader.cancel()
            self._old.pop(old, None)
            self._forget(old)
            self._let_go(old)

    def _forget(self, session: ClientWebSocketResponse) -> None:
        for envelope_id in [e for e, s in self._came_on.items() if s is session]:
            del self._came_on[envelope_id]

    async def receive_messages(self) -> None:
        """The SDK's reader, except that a replaced link is read on until it closes."""
        session = self.current_session
        if session is None:
            return
        errors = 0
        while not self.closed and (session in self._old or session is self.current_session):
            try:
                message = await session.receive()
            except Exception as exc:
                errors += 1
                log.debug("could not read the Socket Mode link: %r", exc)
                await asyncio.sleep(self.ping_interval if errors > 1 else 0.1)
                continue
            # Judged now, not before the wait: the link may have been replaced meanwhile.
            old = session in self._old
            if not old and session is not self.current_session:
                return  # replaced the SDK's way: closed by it
            try:
                if await self._handle(session, message, old=old):
                    return
                errors = 0
            except Exception as exc:
                if self.closed:
                    return
                # The SDK logged and read on too; the type only: a library's message may
                # carry a link's URL and its ticket.
                errors += 1
                log.warning(
                    "a Socket Mode frame could not be handled (%s): reading on",
                    type(exc).__name__,
                )
                await asyncio.sleep(self.ping_interval if errors > 1 else 0.1)

    async def _handle(
        self, session: ClientWebSocketResponse, message: WSMessage, *, old: bool
    ) -> bool:
        """One frame read on ``session``; whether its reading is done."""
        if message.type == WSMsgType.TEXT:
            if not self._note(session, str(message.data), old=old):
                return False
            await self.enqueue_message(message.data)
            for listener in self.on_message_listeners:
                await listener(message)
        elif message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
            if old:
                return True  # Slack closed it, as it said it would
            if session is self._replacing:
                self._let_go(session)  # closed before its successor was opened
            if message.type == WSMsgType.CLOSED:
                await asyncio.sleep(self.ping_interval)
            elif message.type == WSMsgType.CLOSE:
                if self.auto_reconnect_enabled:
                    await self.connect_to_new_endpoint()
                for listener in self.on_close_listeners:
                    await listener(message)
        elif message.type == WSMsgType.ERROR:
            for listener in self.on_error_listeners:
                await listener(message)
        elif message.type == WSMsgType.PING:
            await session.pong(message.data)
        elif message.type == WSMsgType.PONG and session is self.current_session:
            self._ponged(message.data)
        return False

    def _ponged(self, data: object) -> None:
        said = data.decode("utf-8", "replace") if isinstance(data, bytes) else ""
        prefix, _, at = said.partition(":")
        if prefix == "sdk-ping-pong":
            with contextlib.suppress(ValueError):
                self.last_ping_pong_time = float(at)

    def _note(self, session: ClientWebSocketResponse, data: str, *, old: bool) -> bool:
        """Whether a frame is handled. An envelope is, and the link it came on is kept for
        its ack. A routine ``disconnect`` marks its link as being replaced as it is read,
        in frame order (its reconnect asks Slack for the next link before it moves this
        one aside); a ``disconnect`` on a link being replaced is not handled: a second
        reconnect would replace the next, healthy link."""
        frame: object = None
        with contextlib.suppress(ValueError):
            frame = json.loads(data)
        if not isinstance(frame, dict):
            return True
        if frame.get("type") == "disconnect":
            if old or session is self._replacing:
                return False
            if frame.get("reason") in ROUTINE and session is self.current_session:
                self._replacing = session
            return True
        envelope_id = frame.get("envelope_id")
        if isinstance(envelope_id, str):
            self._came_on[envelope_id] = session
        return True

    async def send_message(self, message: str) -> None:
        """An ack goes back on the link its envelope came on while that one is open."""
        session: ClientWebSocketResponse | None = None
        if self._came_on:
            with contextlib.suppress(ValueError, AttributeError):
                session = self._came_on.pop(json.loads(message).get("envelope_id"), None)
        if session is None and self.current_session is None and self._old:
            session = next(reversed(self._old))  # the next link is being opened
        if session is not None and not session.closed:
            with contextlib.suppress(ConnectionError):
                await session.send_str(message)
                return
        await super().send_message(message)

    async def close(self) -> None:
        tasks = list(self._old.values())
        self._came_on.clear()
        await super().close()  # type: ignore[no-untyped-call]
        for session in list(self._old):
            await session.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
