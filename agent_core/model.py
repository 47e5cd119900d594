"""The ``Model`` protocol: one method, provider-neutral in and out.

A model may also stream (``StreamingModel.stream``): the same call and the same reply,
with its text handed to a ``TextSink`` as it arrives. The reply is what is recorded; the
streamed text is only a live view of it. ``complete_streaming`` calls whichever a model
has, so a model that cannot stream (offline, scripted) streams its whole text at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from .messages import Message, Usage

__all__ = [
    "Model",
    "ModelReply",
    "NullSink",
    "RawToolCall",
    "RetryListener",
    "RetryNotice",
    "RetrySeen",
    "RetryTap",
    "StopReason",
    "StreamingModel",
    "TextSink",
    "ToolSpec",
    "complete_streaming",
    "provider_of",
]

StopReason = Literal[
    "end_turn",
    "tool_use",
    "max_tokens",
    "context_window",
    "pause_turn",
    "refusal",
    "overlong",
    "overlong_thinking",
    "error",
]
"""Why a reply ended. ``context_window``: the conversation filled the model's context
window (Anthropic's ``model_context_window_exceeded``), which no output limit helps;
``pause_turn``: the provider paused a long turn (Anthropic, server-side tools);
``overlong``: signoff cut a streamed answer that went on far past its output limit
(``providers.answer_cap``); ``overlong_thinking``: signoff cut one whose thinking went on
past the allowance it has apart from the output limit (an OpenAI-compatible server's)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ToolSpec(_Frozen):
    """What the model is told about a tool: name, description, JSON schema of its input."""

    name: str
    description: str
    input_schema: dict[str, Any]


class RawToolCall(_Frozen):
    """A tool call before defensive parsing: arguments as the provider sent them.

    Anthropic sends an object; OpenAI sends a JSON string that may be broken.
    """

    id: str
    name: str
    arguments: str | dict[str, Any]


class ModelReply(_Frozen):
    text: str = ""
    tool_calls: tuple[RawToolCall, ...] = ()
    stop_reason: StopReason = "end_turn"
    usage: Usage = Usage()
    model: str = ""
    # When the provider reported no usage: about 4 characters a token of what was sent and
    # received, so the budgets still hold. Never recorded as the reply's usage.
    usage_estimate: Usage | None = None

    @property
    def usage_missing(self) -> bool:
        """The provider reported no usage: ``usage`` is zeros, not what the call used."""
        return self.usage_estimate is not None and not self.usage.total


class Model(Protocol):
    """Anything that can take the next turn of a conversation."""

    @property
    def name(self) -> str: ...

    async def complete(
        self, *, system: str, messages: Sequence[Message], tools: Sequence[ToolSpec]
    ) -> ModelReply: ...


class TextSink(Protocol):
    """Where a streaming model hands its text as it arrives."""

    async def text(self, delta: str) -> None: ...

    async def restart(self) -> None:
        """An attempt failed after some text was handed over and the call is tried
        again: what was handed over so far is void."""
        ...


class RetryNotice(_Frozen):
    """A model call that failed and is tried again after a wait: what people may be told
    while they wait (a provider outage can hold a turn for minutes)."""

    provider: str  # as people know it: "Anthropic"
    reason: str  # "529 overloaded_error", "timed out"
    attempt: int  # the attempt that failed, from 1
    attempts: int  # tried at most this many times
    delay_s: float  # until the next attempt
    request_id: str | None = None
    """The provider's id of the attempt that failed, where it sent one (its response's
    headers; none for a connection that failed before them): its support asks for it."""


@runtime_checkable
class RetryListener(Protocol):
    """A ``TextSink`` that also hears of retries (the live view's)."""

    async def retrying(self, notice: RetryNotice) -> None: ...


class NullSink:
    """A sink that keeps nothing."""

    async def text(self, delta: str) -> None:
        return None

    async def restart(self) -> None:
        return None


@runtime_checkable
class StreamingModel(Model, Protocol):
    """A model that can hand its text over as it arrives (the providers' streaming APIs)."""

    async def stream(
        self,
        *,
        system: str,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec],
        sink: TextSink,
    ) -> ModelReply: ...


RetrySeen = Callable[[RetryNotice], Awaitable[None]]


class RetryTap:
    """``sink``, whose retries ``seen`` hears of as well (the live view, the metrics),
    whether or not ``sink`` listens for them itself."""

    def __init__(self, sink: TextSink, seen: RetrySeen) -> None:
        self._sink = sink
        self._seen = seen

    async def text(self, delta: str) -> None:
        await self._sink.text(delta)

    async def restart(self) -> None:
        await self._sink.restart()

    async def retrying(self, notice: RetryNotice) -> None:
        await self._seen(notice)
        if isinstance(self._sink, RetryListener):
            await self._sink.retrying(notice)


async def complete_streaming(
    model: Model,
    *,
    system: str,
    messages: Sequence[Message],
    tools: Sequence[ToolSpec],
    sink: TextSink,
    on_retry: RetrySeen | None = None,
) -> ModelReply:
    """``model``'s reply, its text streamed to ``sink`` (all at once if it cannot stream);
    ``on_retry`` hears of each retry of the call, once."""
    if isinstance(model, StreamingModel):
        if on_retry is not None:
            sink = RetryTap(sink, on_retry)
        return await model.stream(system=system, messages=messages, tools=tools, sink=sink)
    reply = await model.complete(system=system, messages=messages, tools=tools)
    if reply.text:
        await sink.text(reply.text)
    return reply


def provider_of(model_name: str) -> str:
    """The provider part of a model's name (``anthropic:claude-…`` → ``anthropic``)."""
    return model_name.partition(":")[0] or model_name
