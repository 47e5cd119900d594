"""The HTTP client for an MCP server over streamable HTTP, with a bound on an answer.

The SDK reads an ``application/json`` answer whole (``response.aread()``), however long it
is, and decompresses what the server compressed: one answer could take all of signoff's
memory. So a JSON answer is read only up to ``BODY_LIMIT`` bytes, the client asks for
answers uncompressed, and one compressed all the same is refused (``AnswerRefused``): the
call it answered is uncertain, and says why (``too_large``). An SSE answer is bounded
alike: the SDK bounds each event, at 1 MiB unless told, which refused results a JSON
answer may carry, so it is told ``BODY_LIMIT`` too. One answer, one bound, whatever its form.

``http_transport`` is the SDK's ``streamable_http_client`` with one change: a request
abandoned (timed out, or its caller cancelled) under a protocol version of the handshake
era also has its own POST cut, as the SDK does only for later versions. There the SDK
only sends ``notifications/cancelled`` and keeps reading the answer: a server whose SSE
answer never ends kept a stream, a socket and a task open for each such call.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager

import anyio
import httpx2
from mcp.client._transport import TransportStreams
from mcp.client.streamable_http import StreamableHTTPTransport
from mcp.shared._compat import resync_tracer
from mcp.shared._context_streams import create_context_streams
from mcp.shared.jsonrpc_dispatcher import cancelled_request_id_from_params
from mcp.shared.message import SessionMessage
from mcp.types import JSONRPCNotification

__all__ = [
    "BODY_LIMIT",
    "AnswerRefused",
    "HttpErrors",
    "bounded_client",
    "http_transport",
    "too_large",
]

log = logging.getLogger("signoff.mcp")

BODY_LIMIT = 32 << 20  # as a stdio server's line (mcp_stdio.LINE_LIMIT)
# What the SDK's error for a call says when its answer was over the limit: ours for a JSON
# answer, httpx's for an SSE event.
_TOO_LARGE = re.compile(r"an answer over \d+ MiB|Server-sent event exceeded the \d+ byte limit")


def too_large(message: str) -> bool:
    return _TOO_LARGE.search(message) is not None


class AnswerRefused(httpx2.StreamError):
    """An answer not read. A StreamError, which the SDK takes as that call's answer being
    unreadable; a ReadError ended the whole connection, and every call on it."""


class HttpErrors:
    """The HTTP error status a server last answered with ("HTTP 401 Unauthorized"): the
    SDK says only "Server returned an error response", and an operator needs the status."""

    def __init__(self) -> None:
        self.last = ""


class _Bounded(httpx2.AsyncByteStream):
    def __init__(
        self, inner: httpx2.AsyncByteStream, *, server: str, problem: str | None, limit: int
    ) -> None:
        self._inner = inner
        self._server = server
        self._problem = problem
        self._limit = limit

    def _refuse(self, problem: str) -> AnswerRefused:
        log.warning("MCP server %s sent %s; the answer is not read", self._server, problem)
        return AnswerRefused(problem)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._problem is not None:
            raise self._refuse(self._problem)
        seen = 0
        async for chunk in self._inner:
            seen += len(chunk)
            if seen > self._limit:
                raise self._refuse(f"an answer over {self._limit >> 20} MiB")
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


def _bounding(
    server: str, limit: int, errors: HttpErrors
) -> Callable[[httpx2.Response], Awaitable[None]]:
    async def bound(response: httpx2.Response) -> None:
        if response.status_code >= 400:
            errors.last = f"HTTP {response.status_code} {response.reason_phrase}".strip()
        kind = response.headers.get("content-type", "").lower()
        if kind.startswith("text/event-stream"):
            return  # the SDK bounds each event (http_transport)
        stream = response.stream
        assert isinstance(stream, httpx2.AsyncByteStream)
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        problem = None if encoding == "identity" else f"a {encoding} answer (asked for none)"
        response.stream = _Bounded(stream, server=server, problem=problem, limit=limit)

    return bound


def bounded_client(
    server: str,
    *,
    headers: Mapping[str, str],
    timeout: httpx2.Timeout,
    limit: int = BODY_LIMIT,
    errors: HttpErrors | None = None,
) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(
        headers={**headers, "Accept-Encoding": "identity"},
        timeout=timeout,
        event_hooks={"response": [_bounding(server, limit, errors or HttpErrors())]},
    )


class _Transport(StreamableHTTPTransport):
    def _consume_modern_cancellation(self, session_message: SessionMessage) -> bool:
        if super()._consume_modern_cancellation(session_message):
            return True  # a later version: the SDK cut the POST, and sends nothing
        message = session_message.message
        if isinstance(message, JSONRPCNotification) and message.method == "notifications/cancelled":
            # Nothing waits for the answer any more. The notification still goes out: in
            # this era a closed stream does not tell the server to stop.
            request_id = cancelled_request_id_from_params(message.params)
            post = self._in_flight_posts.get(request_id) if request_id is not None else None
            if post is not None:
                post.scope.cancel()
        return False


@asynccontextmanager
async def http_transport(
    url: str, *, client: httpx2.AsyncClient
) -> AsyncIterator[TransportStreams]:
    """``streamable_http_client(url, http_client=client)``, as the SDK writes it, on
    ``_Transport``."""
    transport = _Transport(url, max_sse_event_size=BODY_LIMIT)
    read_writer, read_stream = create_context_streams[SessionMessage | Exception](0)
    write_stream, write_reader = create_context_streams[SessionMessage](0)
    async with (
        read_writer,
        read_stream,
        write_stream,
        write_reader,
        anyio.create_task_group() as tg,
    ):

        def start_get_stream() -> None:
            tg.start_soon(transport.handle_get_stream, client, read_writer)

        tg.start_soon(
            transport.post_writer, client, write_reader, read_writer, write_stream,
            start_get_stream, tg,
        )  # fmt: skip
        try:
            yield read_stream, write_stream
        finally:
            if transport.session_id:
                await transport.terminate_session(client)
            tg.cancel_scope.cancel()
    await resync_tracer()
