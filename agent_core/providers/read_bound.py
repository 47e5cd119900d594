"""The most signoff reads of one line of a model's stream, or of a body that is not one.

The answer's cap (``answer_cap``) counts what a streamed reply says, event by event, so
an event must end before it is counted: the SDKs keep the bytes of an event until its
line ends. A server (or a proxy) that sent one line without end was read into memory
until the attempt's timeout, at the wire's speed: half a gigabyte in 4 s on loopback
through the OpenAI SDK (which copies the line so far on every read, so the Anthropic
SDK's aiohttp transport spent its CPU instead, quadratically), and then told as a
server that did not answer. A body that is not a stream (a reply without streaming, an
error's) was read whole likewise. So each response's bytes are counted as they arrive,
before the SDK sees them: a line of an event stream, or a whole other body, past
``READ_LIMIT`` (a line: ``LINE_LIMIT``, 8 MiB at most) ends the attempt as
``OverlongRead``, an unreadable reply (retried, each attempt bounded). The body's limit
is far above any reply within the caps: an answer and its thinking at the largest output
limit, in JSON escapes of six bytes a character, are under 16 MiB; a line is one event.

What is bounded is what a body decodes to: a compressed body (Anthropic's API gzips its
event streams; so do compressing proxies) is decoded here, in each of its codings in turn,
and handed on as identity, so httpx does not decode it again. Its raw bytes show neither
its lines nor its size: gzip inflates a thousand to one, gzip in gzip a million, so a
reply of kilobytes could fill memory. The clients ask for gzip and deflate only
(``ACCEPT_ENCODING``); a body in another compression (br, zstd: httpx decodes them,
unbounded, once their libraries are installed) is refused as ``Undecodable``, as is one
that does not decode as labelled (an unreadable reply, streamed or not: not a connection
that broke), and a coding no one knows (a server's ``utf-8``) is read as sent, as httpx
reads it. An error's body (a status of 400 or more) that cannot be read is handed on
empty instead: its status and headers (a 429's ``retry-after``) say what it is. It is
bounded whole, whatever its type: the SDKs read it whole.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypedDict

from .stream_guard import GarbledReply

if TYPE_CHECKING:
    import httpx2

__all__ = [
    "ACCEPT_ENCODING",
    "LINE_LIMIT",
    "READ_LIMIT",
    "ClientBounds",
    "OverlongRead",
    "Undecodable",
    "bounded_reads",
]

READ_LIMIT = 32 << 20
# One line of a stream is one event: a delta, or at most an answer at the largest output
# limit sent whole (some servers do). The Anthropic SDK's line buffer copies itself as it
# grows, on the event loop: 32 MiB of one line cost it 12 s of CPU an attempt, 8 MiB 1/16.
LINE_LIMIT = 8 << 20
_PIECE = 1 << 16  # the most a compressed chunk is decoded into at once
_WBITS = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}
log = logging.getLogger("agent_core.providers")
ACCEPT_ENCODING = "gzip, deflate"  # what is decoded here, and only that
# Compressions signoff does not ask for (httpx decodes the first two when it can), and as
# many codings as httpx applies at most: no server needs more.
_REFUSED = frozenset({"br", "zstd", "compress", "x-compress"})
_MAX_CODINGS = 5


class OverlongRead(GarbledReply):
    """A line of a model's stream (or a body that is not one) longer than signoff reads."""


class Undecodable(GarbledReply):
    """A body in a content coding signoff does not read, or that does not decode."""


class ClientBounds(TypedDict):
    """What an SDK's HTTP client is made with: ``Client(**bounded_reads(limit))``."""

    event_hooks: dict[str, list[Callable[[Any], Awaitable[None]]]]
    headers: dict[str, str]


async def _bounded(
    chunks: AsyncIterator[bytes], *, per_line: bool, limit: int
) -> AsyncIterator[bytes]:
    if per_line:
        limit = min(limit, LINE_LIMIT)
    run = 0  # bytes of the line (or the body) so far
    async for chunk in chunks:
        end = max(chunk.rfind(b"\n"), chunk.rfind(b"\r")) if per_line else -1
        run = len(chunk) - end - 1 if end >= 0 else run + len(chunk)
        if run > limit:
            what = "a line of its stream" if per_line else "a body"
            raise OverlongRead(f"{what} over {limit >> 20} MiB")
        yield chunk


async def _decoded(chunks: AsyncIterator[bytes], *, coding: str) -> AsyncIterator[bytes]:
    """``chunks`` decoded as httpx would (deflate: zlib-wrapped, else raw), in pieces of at
    most ``_PIECE`` bytes, so a chunk that inflates a thousandfold is bounded as it goes.
    What does not decode is ``Undecodable``: the server answered, with a body no one can
    read (a proxy's, labelled gzip and not), which is not a connection that broke."""
    wbits = _WBITS[coding]
    decoder = zlib.decompressobj(wbits)
    raw_next = wbits == zlib.MAX_WBITS  # the first piece of "deflate" may be raw instead
    async for chunk in chunks:
        if decoder.eof:  # what follows the end is ignored, as httpx does, and not kept
            continue
        data, full = chunk, True
        while data or full:  # a full piece may leave output pending with no input left
            try:
                piece = decoder.decompress(data, _PIECE)
            except zlib.error as exc:
                if not raw_next:
                    raise Undecodable(f"a body labelled {coding} that does not decode") from exc
                decoder, raw_next = zlib.decompressobj(-zlib.MAX_WBITS), False
                continue
            raw_next = False
            data, full = decoder.unconsumed_tail, len(piece) == _PIECE
            if piece:
                yield piece
    if tail := decoder.flush():
        yield tail


def _codings(header: str) -> list[str]:
    """The codings of a ``content-encoding``, in the order applied; identity left out."""
    named = (coding.strip().lower() for coding in header.split(","))
    return [coding for coding in named if coding not in ("", "identity")]


def _refusal(codings: list[str]) -> str | None:
    """Why a body in ``codings`` is not read, if it is not."""
    if len(codings) > _MAX_CODINGS:
        return f"a body in {len(codings)} codings"
    refused = [coding for coding in codings if coding in _REFUSED]
    return f"a body in {refused[0]}, which signoff does not ask for" if refused else None


def bounded_reads(limit: int = READ_LIMIT) -> ClientBounds:
    """What an SDK's HTTP client is made with so that what each response sends is bounded:
    its ``event_hooks``, and its ``headers`` asking for the codings decoded here. Made
    with the client: ``httpx2`` comes with the SDK, whose import start-up does not wait
    for (``sdk_import``)."""
    import httpx2

    class Bounded(httpx2.AsyncByteStream):
        def __init__(
            self,
            inner: httpx2.AsyncByteStream,
            *,
            per_line: bool,
            codings: list[str],
            error: bool,
        ) -> None:
            self._inner = inner
            self._per_line = per_line
            self._codings = codings
            self._error = error

        async def _read(self) -> AsyncIterator[bytes]:
            if (why := _refusal(self._codings)) is not None:
                raise Undecodable(why)
            chunks = aiter(self._inner)
            for coding in reversed(self._codings):  # the last applied is undone first
                if coding in _WBITS:  # else as httpx: as sent
                    chunks = _decoded(chunks, coding=coding)
            async for chunk in _bounded(chunks, per_line=self._per_line, limit=limit):
                yield chunk

        async def __aiter__(self) -> AsyncIterator[bytes]:
            if not self._error:
                async for chunk in self._read():
                    yield chunk
                return
            # An error's status and headers say what it is (a 429's retry-after, a 401),
            # its body only the server's words, and the SDK reads it whole: one that
            # cannot be read is handed on empty, so the SDK's error is still the status's.
            try:
                body = [chunk async for chunk in self._read()]
            except GarbledReply as exc:
                log.warning("an error's body was not read (%s): told by its status", exc)
                return
            for chunk in body:
                yield chunk

        async def aclose(self) -> None:
            await self._inner.aclose()

    async def bound(response: httpx2.Response) -> None:
        stream = response.stream
        if not isinstance(stream, httpx2.AsyncByteStream):
            return
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        codings = _codings(response.headers.get("content-encoding", ""))
        if "content-encoding" in response.headers:  # decoded here: httpx must not
            del response.headers["content-encoding"]
        error = response.status_code >= 400  # read whole by the SDKs, whatever its type
        per_line = kind == "text/event-stream" and not error
        response.stream = Bounded(stream, per_line=per_line, codings=codings, error=error)

    headers = {"Accept-Encoding": ACCEPT_ENCODING}
    return {"event_hooks": {"response": [bound]}, "headers": headers}
