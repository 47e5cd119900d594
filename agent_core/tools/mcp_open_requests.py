"""A bound on an MCP server's own requests (ping, sampling…) that signoff has not answered.

The SDK answers each such request in a task of its own, and the task waits until its
answer is sent: to a stdio server that does not read its stdin, to an HTTP server that
takes answers one POST at a time, or never takes one. A server sending requests without
end took signoff's memory one task at a time (50,000 pings: 74 → 526 MB over stdio, 605
MB over HTTP). Past ``OPEN_REQUEST_LIMIT`` unanswered, what the server sends is not read
until it takes an answer: it waits, as one writing without end does, and a call it does
not answer meanwhile ends uncertain. Counted, not kept as a set of ids: a server may give
them all the one id, and each is a task all the same.

``stdio_transport`` gates its own reader; ``bounded_requests`` wraps any transport's
streams (streamable HTTP's), gating what the session receives.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import TracebackType
from typing import Any

import anyio
from mcp.client._transport import ReadStream, TransportStreams, WriteStream
from mcp.shared.message import SessionMessage
from mcp.types import JSONRPCError, JSONRPCNotification, JSONRPCRequest, JSONRPCResponse

__all__ = ["OPEN_REQUEST_LIMIT", "OpenRequests", "bounded_requests"]

OPEN_REQUEST_LIMIT = 64


class OpenRequests:
    """The server's requests not yet answered; ``room`` waits while there are too many."""

    def __init__(self, limit: int = OPEN_REQUEST_LIMIT) -> None:
        self.limit = limit
        self._counts: Counter[object] = Counter()
        self._answered = anyio.Event()
        self._ended = False

    def received(self, item: SessionMessage | Exception) -> None:
        message = item.message if isinstance(item, SessionMessage) else None
        if isinstance(message, JSONRPCRequest):
            self._counts[message.id] += 1
        elif (
            isinstance(message, JSONRPCNotification) and message.method == "notifications/cancelled"
        ):
            # A request the server cancels is never answered (the spec forbids it).
            named = (message.params or {}).get("requestId")
            if isinstance(named, str | int):  # any JSON at all, as the server wrote it
                self._settled(named)

    def sent(self, item: SessionMessage) -> None:
        """``item`` went out (to the transport): an answer settles its request."""
        if isinstance(item.message, JSONRPCResponse | JSONRPCError):
            self._settled(item.message.id)

    def end(self) -> None:
        """No answer will go out any more (shutdown, a broken writer): never wait again."""
        self._ended = True
        self._answered.set()

    async def room(self) -> None:
        while self._counts.total() > self.limit and not self._ended:
            self._answered = anyio.Event()
            await self._answered.wait()

    def _settled(self, request_id: object) -> None:
        self._counts[request_id] -= 1
        if self._counts[request_id] <= 0:
            del self._counts[request_id]
        self._answered.set()


class _Gated:
    """The transport's read stream, received from only while there is room."""

    def __init__(
        self, inner: ReadStream[SessionMessage | Exception], pending: OpenRequests
    ) -> None:
        self._inner = inner
        self._pending = pending

    @property
    def last_context(self) -> Any:  # the sender's context, which the session runs under
        return getattr(self._inner, "last_context", None)

    async def receive(self) -> SessionMessage | Exception:
        await self._pending.room()
        item = await self._inner.receive()
        self._pending.received(item)
        return item

    def __aiter__(self) -> _Gated:
        return self

    async def __anext__(self) -> SessionMessage | Exception:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        self._pending.end()
        await self._inner.aclose()

    async def __aenter__(self) -> _Gated:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


class _Noting:
    """The transport's write stream, telling ``pending`` of each answer it took."""

    def __init__(self, inner: WriteStream[SessionMessage], pending: OpenRequests) -> None:
        self._inner = inner
        self._pending = pending

    async def send(self, item: SessionMessage, /) -> None:
        try:
            await self._inner.send(item)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            self._pending.end()
            raise
        self._pending.sent(item)

    async def aclose(self) -> None:
        self._pending.end()
        await self._inner.aclose()

    async def __aenter__(self) -> _Noting:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


@asynccontextmanager
async def bounded_requests(
    transport: AbstractAsyncContextManager[TransportStreams], *, limit: int = OPEN_REQUEST_LIMIT
) -> AsyncIterator[TransportStreams]:
    pending = OpenRequests(limit)
    async with transport as (read, write):
        try:
            yield _Gated(read, pending), _Noting(write, pending)
        finally:
            pending.end()
