"""Plumbing shared by the fake provider servers: a local aiohttp server on 127.0.0.1 with
an ephemeral port, a queue of scripted replies, and a record of every request.

A request with ``"stream": true`` gets its scripted success as server-sent events in the
provider's own event shapes (``stream_events`` in each fake), paced by ``chunk_delay``;
``break_after=N`` ends such a stream after N events, with the provider's mid-stream error
event (``break_with="error"``), by dropping the connection (``"drop"``) or by ending the
response cleanly, as if the stream were complete (``"eof"``); ``hold_open`` keeps a
whole stream's connection open after its last event, as a gateway may; ``"endless"`` goes on
after N events with more of the same text for ever (a server that ignores ``max_tokens``),
until the client goes, and ``"endless_line"`` begins one more event whose line never ends. A body that is not a stream
(an error's, say) can be cut: ``body_cut=N`` sends its first N bytes under the whole
body's ``content-length`` and drops the connection. Any body, streamed or not, can be
sent in content codings: ``encoding="gzip, deflate"`` encodes it so for real
(``fake_encoding.Encoder``), ``garbled_encoding="gzip"`` says it is so encoded, and it is
not (a proxy that mislabels what it passes on).

Use a concrete fake (``fake_anthropic.FakeAnthropic``, ``fake_openai.FakeOpenAI``)::

    async with FakeAnthropic() as server:
        server.reply("hello")
        ... AnthropicModel("m", api_key="k", base_url=server.base_url) ...
        assert server.requests[0].body["model"] == "m"
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, ClassVar, Literal, Self

from aiohttp import web
from fake_encoding import Encoder

__all__ = ["FakeServer", "RecordedRequest", "Scripted"]


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    """Header names lower-cased."""
    body: Any
    """The parsed JSON body (``None`` if it was not JSON)."""


@dataclass(frozen=True)
class Scripted:
    """One scripted response: status, JSON (or raw text) body, extra headers, delay."""

    status: int = 200
    body: Any = None
    text: str | None = None
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    # Streamed replies only: the pause before each event, and where the stream breaks.
    chunk_delay: float = 0.0
    break_after: int | None = None
    # "hold": send nothing more and keep the connection open (a gateway holding it).
    # "endless": the same text piece for ever, until the client goes.
    # "endless_line": one line that never ends, until the client goes.
    break_with: Literal["error", "drop", "eof", "hold", "endless", "endless_line"] = "error"
    hold_open: bool = False
    # A body that is not streamed: cut after this many bytes.
    body_cut: int | None = None
    # Any body: sent in these content codings (a stream's encoded on the fly, as Anthropic's
    # API and compressing proxies send it), or labelled so and sent as it is.
    encoding: str | None = None
    garbled_encoding: str | None = None

    def encoder(self) -> Encoder | None:
        return Encoder.of(self.encoding, garbled=self.garbled_encoding)


class FakeServer:
    """Base class: subclasses set ``path``/``request_id_header`` and build the bodies."""

    path: ClassVar[str] = ""
    request_id_header: ClassVar[str] = "request-id"
    request_id_prefix: ClassVar[str] = "req_fake_"
    unauthorized_message: ClassVar[str] = "invalid x-api-key"

    def __init__(
        self,
        *,
        api_key: str | None = None,
        default_text: str | None = None,
        strict: bool = True,
    ) -> None:
        """``api_key``: when set, requests carrying another key get the provider's 401.
        ``default_text``: reply with this text once the script is used up (else 500).
        ``strict``: check each request against the API's documented conversation rules
        and answer 400 ``invalid_request_error`` (script untouched) when one is broken;
        the reasons are kept in ``rejections``."""
        self.api_key = api_key
        self.default_text = default_text
        self.strict = strict
        self.requests: list[RecordedRequest] = []
        self.rejections: list[str] = []
        self._script: deque[Scripted] = deque()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._port = 0

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self) -> Self:
        app = web.Application()
        app.router.add_post(self.path, self._handle)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``, the server root."""
        return f"http://127.0.0.1:{self._port}"

    # -- scripting ---------------------------------------------------------------------
    def enqueue(self, item: Scripted) -> Self:
        self._script.append(item)
        return self

    def raw(
        self,
        status: int,
        text: str,
        *,
        content_type: str = "text/html",
        headers: Mapping[str, str] | None = None,
    ) -> Self:
        """A non-JSON response (a proxy's HTML page, say)."""
        return self.enqueue(
            Scripted(status=status, text=text, content_type=content_type, headers=headers or {})
        )

    @property
    def pending(self) -> int:
        """Scripted replies not consumed yet."""
        return len(self._script)

    def next_id(self) -> int:
        return next(self._ids)

    # -- for subclasses ----------------------------------------------------------------
    def ok_body(self, text: str, request_body: Any) -> Any:
        raise NotImplementedError

    def error_body(self, status: int, message: str) -> Any:
        raise NotImplementedError

    def validate(self, body: Any) -> str | None:
        """Why the real API would refuse ``body`` with a 400, or ``None``."""
        return None

    def presented_key(self, headers: Mapping[str, str]) -> str | None:
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:]
        return headers.get("x-api-key")

    def fill(self, body: Any, request_body: Any) -> Any:
        """Last-moment edits to a scripted body (e.g. echo the requested model)."""
        return body

    def stream_events(self, body: Any, request_body: Any) -> list[tuple[str | None, Any]]:
        """A success ``body`` as the (event name, data) pairs its stream sends."""
        raise NotImplementedError

    def stream_error(self) -> tuple[str | None, Any]:
        """The event a stream that fails midway ends with."""
        raise NotImplementedError

    def stream_more(self, body: Any) -> tuple[str | None, Any]:
        """An event with more text for the reply ``body`` streams (its first text block)."""
        raise NotImplementedError

    async def _stream(
        self, request: web.Request, item: Scripted, parsed: Any, headers: Mapping[str, str]
    ) -> web.StreamResponse:
        encoder = item.encoder()
        coded = {} if encoder is None else {"content-encoding": encoder.label}
        response = web.StreamResponse(
            status=200, headers={"content-type": "text/event-stream", **coded, **headers}
        )
        await response.prepare(request)
        encoder, write = encoder or Encoder("identity"), response.write

        async def send(piece: bytes) -> None:
            await write(encoder(piece))

        events = self.stream_events(self.fill(item.body, parsed), parsed)
        for number, (name, data) in enumerate(events):
            if item.break_after is not None and number >= item.break_after:
                if item.break_with == "drop":
                    assert request.transport is not None
                    request.transport.close()
                    return response
                if item.break_with == "eof":
                    break
                if item.break_with == "hold":
                    await asyncio.Event().wait()
                if item.break_with == "endless_line":  # until the client goes, likewise
                    await send(b"data: ")
                    while True:
                        await send(b"x" * 65536)
                        await asyncio.sleep(0)
                if item.break_with == "endless":  # until the client goes: cancelled then
                    more = _sse(*self.stream_more(self.fill(item.body, parsed)))
                    while True:
                        await send(more)
                        await asyncio.sleep(0)  # the client reads in this same event loop
                name, data = self.stream_error()
                await send(_sse(name, data))
                break
            if item.chunk_delay:
                await asyncio.sleep(item.chunk_delay)
            await send(_sse(name, data))
        else:
            if item.hold_open:  # until the client goes (the handler is cancelled then)
                await asyncio.Event().wait()
        await write(encoder.finish())
        await response.write_eof()
        return response

    # -- serving -----------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            parsed: Any = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.requests.append(RecordedRequest(request.method, request.path, headers, parsed))
        problem = self.validate(parsed) if self.strict else None
        if self.api_key is not None and self.presented_key(headers) != self.api_key:
            item = Scripted(status=401, body=self.error_body(401, self.unauthorized_message))
        elif problem is not None:
            self.rejections.append(problem)
            item = Scripted(status=400, body=self.error_body(400, problem))
        elif self._script:
            item = self._script.popleft()
        elif self.default_text is not None:
            item = Scripted(body=self.ok_body(self.default_text, parsed))
        else:
            item = Scripted(status=500, body=self.error_body(500, "fake: no scripted reply left"))
        if item.delay:
            await asyncio.sleep(item.delay)
        out_headers = {self.request_id_header: f"{self.request_id_prefix}{self.next_id()}"}
        out_headers.update(item.headers)
        streamed = isinstance(parsed, dict) and parsed.get("stream") is True
        if streamed and item.status == 200 and item.text is None:
            return await self._stream(request, item, parsed, out_headers)
        if item.body_cut is not None or item.encoder() is not None:
            return await self._broken_body(request, item, parsed, out_headers)
        if item.text is not None:
            return web.Response(
                status=item.status,
                text=item.text,
                content_type=item.content_type,
                headers=out_headers,
            )
        return web.json_response(
            self.fill(item.body, parsed), status=item.status, headers=out_headers
        )

    async def _broken_body(
        self, request: web.Request, item: Scripted, parsed: Any, headers: Mapping[str, str]
    ) -> web.StreamResponse:
        raw = (
            item.text.encode()
            if item.text is not None
            else json.dumps(self.fill(item.body, parsed)).encode()
        )
        if (encoder := item.encoder()) is not None:
            raw = encoder.whole(raw)
        out = {"content-type": item.content_type, "content-length": str(len(raw)), **headers}
        if encoder is not None:
            out["content-encoding"] = encoder.label
        response = web.StreamResponse(status=item.status, headers=out)
        await response.prepare(request)
        if item.body_cut is None:
            await response.write(raw)
            await response.write_eof()
            return response
        await response.write(raw[: item.body_cut])
        assert request.transport is not None
        request.transport.close()
        return response


def _sse(name: str | None, data: Any) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data)
    head = f"event: {name}\n" if name else ""
    return f"{head}data: {text}\n\n".encode()
