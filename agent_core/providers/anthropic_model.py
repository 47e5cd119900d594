"""``Model`` over the Anthropic Messages API, through the official ``anthropic`` SDK.

``stream`` is the same call over server-sent events (``create(stream=True)``, the events
put back together by ``anthropic_stream.MessageAssembler``): text deltas go to the sink as
they arrive and the final message is converted exactly as ``complete`` converts its
reply. An error the API sends mid-stream (an ``error`` event on a 200 response) counts as
the status its type stands for, so it is retried like the same error sent up front.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, cast

from ..messages import Message
from ..model import ModelReply, TextSink, ToolSpec
from .answer_cap import AnswerCap, AnswerWatch
from .anthropic_cache import mark_cache_points
from .anthropic_failures import classify_anthropic_error
from .anthropic_stream import MessageAssembler, made_progress
from .base import GarbledReply, ProviderModel, ReplyCut, StreamEnded, stream_guarded
from .convert_anthropic import from_anthropic, thought_in, to_anthropic, tools_to_anthropic
from .failure import Failure
from .read_bound import bounded_reads
from .retry import Sleep
from .settings import ModelSettings
from .window import recent

__all__ = ["DEFAULT_ANTHROPIC_BASE_URL", "AnthropicModel", "classify_anthropic_error"]

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic
    from anthropic.types import Message as AnthropicMessage

DEFAULT_ANTHROPIC_BASE_URL = "https://api.anthropic.com"


class AnthropicModel(ProviderModel["AsyncAnthropic"]):
    """Claude via ``POST /v1/messages``; ``name`` is ``anthropic:<model>``."""

    provider = "anthropic"
    label = "Anthropic"
    key_env = "ANTHROPIC_API_KEY"
    base_url_env = "ANTHROPIC_BASE_URL"
    path = "/v1/messages"
    sdk = "anthropic"
    request_id_header = "request-id"

    def __init__(
        self,
        model: str,
        *,
        api_key: str,
        base_url: str | None = None,
        settings: ModelSettings | None = None,
        sleep: Sleep | None = None,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(
            model,
            api_key=api_key,
            base_url=base_url or DEFAULT_ANTHROPIC_BASE_URL,
            settings=settings,
            sleep=sleep,
            rng=rng,
        )

    def _make_client(self) -> AsyncAnthropic:
        import anthropic

        return anthropic.AsyncAnthropic(
            api_key=self._secret,
            base_url=self._base_url,
            max_retries=0,
            timeout=self._settings.timeout_s,
            # aiohttp under the SDK (its own option): httpx's pool looks at every idle
            # connection's socket on each request and release, a cost that grows with
            # the threads talking at once (bench: 2-3 ms of CPU per mention at 100).
            http_client=anthropic.DefaultAioHttpClient(**bounded_reads(self._settings.read_limit)),
        )

    def _classify(self, exc: Exception) -> Failure | None:
        return classify_anthropic_error(exc)

    def request(
        self, *, system: str, messages: Sequence[Message], tools: Sequence[ToolSpec]
    ) -> dict[str, Any]:
        """The JSON body ``complete`` sends: the conversion layer's whole output."""
        self._check_tools(tools)
        sent = to_anthropic(recent(messages, budget_chars=self._settings.history_chars))
        specs = tools_to_anthropic(tools)
        body: dict[str, Any] = {
            "model": self._model,
            "max_tokens": self.max_tokens,
            "messages": sent,
        }
        marked = (
            mark_cache_points(system=system, tools=specs, messages=sent)
            if self._settings.prompt_cache
            else None
        )
        if system:
            body["system"] = marked or system
        if specs:
            body["tools"] = specs
        return body

    async def complete(
        self, *, system: str, messages: Sequence[Message], tools: Sequence[ToolSpec]
    ) -> ModelReply:
        client = await self._client()

        body = self.request(system=system, messages=messages, tools=tools)

        async def attempt() -> AnthropicMessage:
            async with self._bounded():
                message: AnthropicMessage = await client.messages.create(**body)
            return message

        reply = await self._call(attempt)
        return self._counted(reply, body)

    async def stream(
        self,
        *,
        system: str,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec],
        sink: TextSink,
    ) -> ModelReply:
        client = await self._client()
        import anthropic

        body = self.request(system=system, messages=messages, tools=tools)
        handed_over = False
        # Claude thinks within max_tokens
        watch = AnswerWatch(AnswerCap(max_tokens=self.max_tokens, thinking_apart=False))

        async def attempt() -> AnthropicMessage:
            nonlocal handed_over
            watch.begin()
            if handed_over:  # a retry after text went out: that text is void
                handed_over = False
                await sink.restart()
            assembler = MessageAssembler()
            async with self._bounded():
                events = await client.messages.create(**body, stream=True)
            request = events.response.request

            guarded = stream_guarded(
                events,
                passes=(anthropic.APIError,),
                broken=ReplyCut,
                # The SDK's own word for a connection lost midway (its aiohttp transport
                # wraps it); not its timeout, a subclass: a stall is told as one.
                dropped=lambda exc: type(exc) is anthropic.APIConnectionError,
                stalled=lambda: anthropic.APITimeoutError(request=request),
                quiet_s=self._settings.timeout_s,  # the SDK yields no pings
                progress=made_progress,  # nor are empty pieces news
            )
            # Its headers came with the 200: a failure from here on is told with them.
            with self._answered(events.response.headers):
                async with events, aclosing(guarded):  # left at message_stop: closed then
                    async for event in guarded:
                        try:
                            text = assembler.add(event)
                        except Exception as exc:  # a malformed event: retried, told as unreadable
                            what = f"a malformed event: {type(exc).__name__}"
                            raise GarbledReply(what) from exc
                        if text:
                            handed_over = True
                            await sink.text(text)
                        if watch.passed(assembler):
                            break
                        if assembler.stopped:  # the API's last event: a gateway may hold on
                            break
                # A body that ends before message_stop is a reply cut short (retried like a
                # dropped stream), not a whole one; one with no event at all may be no reply.
                if not assembler.events:
                    raise self._no_events(events.response.headers.get("content-type", ""))
                if not assembler.stopped and not watch.cut:
                    raise ReplyCut(StreamEnded("before message_stop"))
                if not assembler.started:  # what the SDK's helper asserted; told the same way
                    raise self._unreadable(AssertionError("no message_start"))
                try:
                    return assembler.message()
                except Exception as exc:  # tool input that is not JSON, as the helper raised it
                    raise GarbledReply("tool input that is not JSON") from exc

        message = await self._call(attempt, sink=sink)
        reply = self._counted(message, body, thought=watch.thought)
        return watch.settled(reply, model=self.name)

    def _counted(
        self, message: object, body: dict[str, Any], *, thought: int | None = None
    ) -> ModelReply:
        """``message`` as signoff's reply. The API counts at least one input token for
        every request, so no count at all is a gateway that left the usage out; its
        estimate counts the ``thought`` characters of thinking (a stream's, which its
        blocks do not keep; by default those of its thinking blocks)."""
        from anthropic.types import Message as AnthropicMessage

        reply = self._parse(
            message,
            AnthropicMessage,
            lambda: from_anthropic(cast(AnthropicMessage, message), fallback_model=self._model),
        )
        if thought is None:
            thought = thought_in(cast(AnthropicMessage, message))
        return self._with_usage(reply, body, reported=reply.usage.total > 0, thought=thought)
