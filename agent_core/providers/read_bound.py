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

A body that is not a stream is counted as it comes over the wire, compressed or not. An
event stream gzip- or deflate-encoded (Anthropic's API gzips its own; so do compressing
proxies) is decoded here, its lines bounded as decoded, and handed on as identity: its
raw bytes do not show its lines, and an endless one compresses a thousand to one. One in
another encoding (br, zstd) is not bounded here.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .stream_guard import GarbledReply

if TYPE_CHECKING:
    import httpx2

__all__ = ["LINE_LIMIT", "READ_LIMIT", "OverlongRead", "bounded_reads"]

READ_LIMIT = 32 << 20
# One line of a stream is one event: a delta, or at most an answer at the largest output
# limit sent whole (some servers do). The Anthropic SDK's line buffer copies itself as it
# grows, on the event loop: 32 MiB of one line cost it 12 s of CPU an attempt, 8 MiB 1/16.
LINE_LIMIT = 8 << 20
_PIECE = 1 << 16  # the most a compressed chunk is decoded into at once
_WBITS = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}


class OverlongRead(GarbledReply):
    """A line of a model's stream (or a body that is not one) longer than signoff reads."""


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


async def _decoded(
    chunks: AsyncIterator[bytes], *, wbits: int, refused: Callable[[str], Exception]
) -> AsyncIterator[bytes]:
    """``chunks`` decoded as httpx would (deflate: zlib-wrapped, else raw), in pieces of at
    most ``_PIECE`` bytes, so a chunk that inflates a thousandfold is bounded as it goes."""
    decoder = zlib.decompressobj(wbits)
    raw_next = wbits == zlib.MAX_WBITS  # the first piece of "deflate" may be raw instead
    async for chunk in chunks:
        data, full = chunk, True
        while data or full:  # a full piece may leave output pending with no input left
            try:
                piece = decoder.decompress(data, _PIECE)
            except zlib.error as exc:
                if not raw_next:
                    raise refused(str(exc)) from exc
                decoder, raw_next = zlib.decompressobj(-zlib.MAX_WBITS), False
                continue
            raw_next = False
            data, full = decoder.unconsumed_tail, len(piece) == _PIECE
            if piece:
                yield piece
    if tail := decoder.flush():
        yield tail


def bounded_reads(limit: int = READ_LIMIT) -> dict[str, list[Callable[[Any], Awaitable[None]]]]:
    """The ``event_hooks`` of an SDK's HTTP client that bound what each response sends.
    Made with the client: ``httpx2`` comes with the SDK, whose import start-up does not
    wait for (``sdk_import``)."""
    import httpx2

    def refused(why: str) -> Exception:  # told as httpx tells a body it cannot decode
        return httpx2.DecodingError(why)

    class Bounded(httpx2.AsyncByteStream):
        def __init__(
            self, inner: httpx2.AsyncByteStream, *, per_line: bool, wbits: int | None = None
        ) -> None:
            self._inner = inner
            self._per_line = per_line
            self._wbits = wbits

        def __aiter__(self) -> AsyncIterator[bytes]:
            chunks = aiter(self._inner)
            if self._wbits is not None:
                chunks = _decoded(chunks, wbits=self._wbits, refused=refused)
            return _bounded(chunks, per_line=self._per_line, limit=limit)

        async def aclose(self) -> None:
            await self._inner.aclose()

    async def bound(response: httpx2.Response) -> None:
        stream = response.stream
        if not isinstance(stream, httpx2.AsyncByteStream):
            return
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if kind != "text/event-stream" or encoding in ("", "identity"):
            response.stream = Bounded(stream, per_line=kind == "text/event-stream")
        elif (wbits := _WBITS.get(encoding)) is not None:  # decoded here: httpx must not
            del response.headers["content-encoding"]
            response.stream = Bounded(stream, per_line=True, wbits=wbits)
        # else lines the raw bytes do not show, in an encoding left to httpx

    return {"response": [bound]}
