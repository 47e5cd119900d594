"""Socket Mode connections: single-use tickets, the live sockets, hello/disconnect frames and
pings. What travels over them (envelopes, acks, retries) is dispatch.py's business."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from localslack.background import Background
from localslack.chaos import Chaos
from localslack.config import WorkspaceConfig
from localslack.deliveries import Delivery
from localslack.dispatch import Dispatcher, Outlet
from localslack.ids import Clock, IdSource
from localslack.records import JSON

__all__ = ["LiveSocket", "SocketHub"]

_SEND_ERRORS = (ConnectionError, RuntimeError)


@dataclass
class LiveSocket:
    id: str
    ws: web.WebSocketResponse
    transport: asyncio.BaseTransport | None
    connected_at: float
    # Set once a disconnect (other than `warning`) was sent: the client is about to leave, so
    # new envelopes wait for its replacement instead of being lost.
    draining: bool = False

    def to_dict(self) -> JSON:
        return {"id": self.id, "connected_at": self.connected_at, "draining": self.draining}


class SocketHub:
    def __init__(
        self,
        *,
        config: WorkspaceConfig,
        ids: IdSource,
        clock: Clock,
        rng: random.Random,
        chaos: Chaos,
    ) -> None:
        self._config = config
        self._timing = config.timing
        self._ids = ids
        self._clock = clock
        self._rng = rng
        self._tickets: set[str] = set()
        self._sockets: dict[str, LiveSocket] = {}
        self._socket_change = asyncio.Event()
        self._next_socket = 0
        self._background = Background()
        self._dispatcher = Dispatcher(
            config=config,
            ids=ids,
            clock=clock,
            rng=rng,
            background=self._background,
            live=self._live,
            send=self._send_envelope,
            chaos=chaos,
        )
        chaos.drop = lambda socket_id: self.drop(socket_id=socket_id)
        self.log = self._dispatcher.log
        self.ack_listeners = self._dispatcher.ack_listeners
        self.answer_pings = True
        self.handshakes = 0
        # Upgrades still to fail, their ticket used up (fail_handshakes), and with what status.
        self.failing_handshakes = 0
        self.failing_status = 503
        # Run as the app's close frame on a socket is read, before it is answered.
        self.app_close_hooks: list[Callable[[str], Awaitable[None]]] = []
        # Off: the app's Socket Mode setting is (controls_app.py).
        self.socket_mode_enabled = True
        # The reason new connections are refused with, before any hello (refuse_links).
        self.refusing: str | None = None
        # Cleared: new connections wait for their ``hello`` (hold_hellos); Slack's may lag.
        self.hellos = asyncio.Event()
        self.hellos.set()

    # -- tickets & connections ----------------------------------------------------------------

    def issue_url(self, *, base_url: str) -> str:
        ticket = self._ids.ticket()
        self._tickets.add(ticket)
        ws_base = base_url.replace("http://", "ws://", 1)
        return f"{ws_base}/link/?ticket={ticket}&app_id={self._config.bot.app_id}"

    def sockets(self) -> list[LiveSocket]:
        return list(self._sockets.values())

    async def wait_for_sockets(self, count: int) -> None:
        """Callers bound the wait with asyncio.timeout()."""
        while len(self._live()) < count:
            self._socket_change.clear()
            await self._socket_change.wait()

    async def wait_for_handshakes(self, total: int) -> None:
        """Wait until `total` WebSocket connections have ever been accepted (reconnects count)."""
        while self.handshakes < total:
            self._socket_change.clear()
            await self._socket_change.wait()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            # Tickets are single use; the Python client always fetches a fresh URL to reconnect.
            return web.Response(status=401, text="invalid_ticket")
        self._tickets.discard(ticket)
        if self.failing_handshakes > 0:
            # An edge that failed after taking the ticket: the URL is spent all the same.
            self.failing_handshakes -= 1
            return web.Response(status=self.failing_status, text="upgrade failed")
        transport = request.transport
        # Not autoclose: an app's close frame is answered by _read, after app_close_hooks.
        ws = web.WebSocketResponse(
            autoping=False, autoclose=False, heartbeat=self._timing.server_ping_interval
        )
        await ws.prepare(request)
        self.handshakes += 1
        self._socket_change.set()
        self._next_socket += 1
        sock = LiveSocket(
            id=f"socket-{self._next_socket}", ws=ws, transport=transport, connected_at=self._clock()
        )
        refusal = self.refusing
        if not self.socket_mode_enabled:
            refusal = "link_disabled"
        if len(self._sockets) >= self._config.max_sockets:
            refusal = "too_many_websockets"
        if refusal is not None:
            await self._send_frame(sock, _disconnect_frame(refusal))
            await ws.close()
            return ws
        self._sockets[sock.id] = sock
        self._socket_change.set()
        try:
            await self.hellos.wait()
            await self._send_frame(sock, self._hello())
            await self._dispatcher.flush()
            await self._read(sock)
        finally:
            self._forget(sock)
            with contextlib.suppress(*_SEND_ERRORS):
                await ws.close()
        return ws

    def _hello(self) -> JSON:
        return {
            "type": "hello",
            "num_connections": len(self._sockets),
            "connection_info": {"app_id": self._config.bot.app_id},
            "debug_info": {
                "host": "applink-localslack",
                "build_number": 1,
                "approximate_connection_time": self._timing.approximate_connection_time,
            },
        }

    async def _read(self, sock: LiveSocket) -> None:
        while True:
            msg = await sock.ws.receive()
            if msg.type == WSMsgType.TEXT:
                self._dispatcher.on_frame(str(msg.data), socket_id=sock.id)
            elif msg.type == WSMsgType.PING and self.answer_pings:
                await sock.ws.pong(msg.data)
            elif msg.type == WSMsgType.CLOSE:
                # Read, not yet answered: what Slack sends now crosses the app's close frame
                # on the wire, and reaches an app that already sent it.
                for hook in list(self.app_close_hooks):
                    await hook(sock.id)
                return
            elif msg.type in (WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                return

    def _forget(self, sock: LiveSocket) -> None:
        if self._sockets.pop(sock.id, None) is not None:
            self._socket_change.set()

    def _live(self) -> list[LiveSocket]:
        return [s for s in self._sockets.values() if not s.draining and not s.ws.closed]

    async def _send_envelope(self, outlet: Outlet, frame: JSON) -> bool:
        sock = self._sockets.get(outlet.id)
        return sock is not None and await self._send_frame(sock, frame)

    async def _send_frame(self, sock: LiveSocket, frame: JSON) -> bool:
        try:
            await sock.ws.send_str(json.dumps(frame))
        except _SEND_ERRORS:
            self._forget(sock)
            return False
        return True

    # -- test hooks ----------------------------------------------------------------------------

    async def disconnect(
        self,
        *,
        reason: str,
        socket_id: str | None = None,
        close_after: float | None = None,
        drain: bool | None = None,
    ) -> list[str]:
        targets = [s for s in self.sockets() if socket_id in (None, s.id)]
        for sock in targets:
            await self._send_frame(sock, _disconnect_frame(reason))
            sock.draining = reason != "warning" if drain is None else drain
            if close_after is not None:
                self._background.spawn(self._close_later(sock, close_after))
        return [s.id for s in targets]

    async def set_socket_mode(self, *, enabled: bool) -> list[str]:
        self.socket_mode_enabled = enabled
        if enabled:
            return []
        closed = await self.disconnect(reason="link_disabled")
        for sock in self.sockets():
            with contextlib.suppress(*_SEND_ERRORS):
                await sock.ws.close()
        return closed

    async def _close_later(self, sock: LiveSocket, delay: float) -> None:
        await asyncio.sleep(delay)
        await sock.ws.close()

    async def close_links(self, *, socket_id: str | None = None) -> list[str]:
        """Close connections with a close frame, as Slack does a link it warned about."""
        targets = [s for s in self.sockets() if socket_id in (None, s.id)]
        for sock in targets:
            with contextlib.suppress(*_SEND_ERRORS):
                await sock.ws.close()
        return [s.id for s in targets]

    def drop(self, *, socket_id: str | None = None) -> list[str]:
        """Kill TCP connections without a close frame, like a network failure."""
        targets = [s for s in self.sockets() if socket_id in (None, s.id)]
        for sock in targets:
            if isinstance(sock.transport, asyncio.Transport):
                sock.transport.abort()
            self._forget(sock)
        return [s.id for s in targets]

    def freeze(self, *, socket_id: str | None = None) -> list[str]:
        """Stop reading from the connections, like a network gone silent: nothing the
        client sends is answered, not even its close frame (the TCP link stays open)."""
        targets = [s for s in self.sockets() if socket_id in (None, s.id)]
        for sock in targets:
            if isinstance(sock.transport, asyncio.Transport):
                sock.transport.pause_reading()
        return [s.id for s in targets]

    # -- delivery ------------------------------------------------------------------------------

    async def deliver(
        self,
        *,
        type: str,
        payload: Any,
        accepts_response_payload: bool,
        event_id: str | None = None,
        retry_attempt: int = 0,
        raw: bool = False,
    ) -> Delivery:
        return await self._dispatcher.deliver(
            type=type,
            payload=payload,
            accepts_response_payload=accepts_response_payload,
            event_id=event_id,
            retry_attempt=retry_attempt,
            raw=raw,
        )

    async def close(self) -> None:
        self._dispatcher.close()
        await self._background.close()
        for sock in self.sockets():
            with contextlib.suppress(*_SEND_ERRORS):
                await sock.ws.close(code=1001, message=b"server shutdown")


def _disconnect_frame(reason: str) -> JSON:
    return {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-localslack"}}
