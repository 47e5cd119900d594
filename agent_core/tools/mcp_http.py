"""The HTTP client for an MCP server over streamable HTTP, with a bound on an answer.

The SDK reads an ``application/json`` answer whole (``response.aread()``), however long it
is, and decompresses what the server compressed: one answer could take all of signoff's
memory. (It already bounds each event of an SSE answer.) So a JSON answer is read only up
to ``BODY_LIMIT`` bytes, the client asks for answers uncompressed, and one compressed all
the same is refused: either ends as a connection that broke mid-answer, which the SDK and
``mcp_connection`` already handle (a call it answered is uncertain).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

import httpx2

__all__ = ["BODY_LIMIT", "bounded_client"]

log = logging.getLogger("signoff.mcp")

BODY_LIMIT = 32 << 20  # as a stdio server's line (mcp_stdio.LINE_LIMIT)


class _Bounded(httpx2.AsyncByteStream):
    def __init__(
        self, inner: httpx2.AsyncByteStream, *, server: str, problem: str | None, limit: int
    ) -> None:
        self._inner = inner
        self._server = server
        self._problem = problem
        self._limit = limit

    def _refuse(self, problem: str) -> httpx2.ReadError:
        log.warning("MCP server %s sent %s; the answer is not read", self._server, problem)
        return httpx2.ReadError(problem)

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


def _bounding(server: str, limit: int) -> Callable[[httpx2.Response], Awaitable[None]]:
    async def bound(response: httpx2.Response) -> None:
        kind = response.headers.get("content-type", "").lower()
        if kind.startswith("text/event-stream"):
            return  # the SDK bounds each event
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
) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(
        headers={**headers, "Accept-Encoding": "identity"},
        timeout=timeout,
        event_hooks={"response": [_bounding(server, limit)]},
    )
