"""``Model`` over OpenAI Chat Completions, through the official ``openai`` SDK.

``OpenAICompatibleModel`` is the same adapter pointed at any server that speaks Chat
Completions with tools (vLLM, llama.cpp ``llama-server``, Ollama, ...). It sends the
classic ``max_tokens``, which those servers understand, where OpenAI itself gets
``max_completion_tokens`` (required by its reasoning models).

``stream`` makes the same call with ``stream: true`` (and ``stream_options.include_usage``,
so tokens are still counted): text deltas go to the sink as they arrive, and the chunks
are put back together into the completion ``complete`` would have had
(``openai_stream``).

Why not the Responses API: Chat Completions is the one dialect OpenAI and every
compatible server share, so one tested code path serves both; what Responses adds for
OpenAI's own models (server-side state, reasoning items carried between turns) would
need transcript fields we do not store, so it would not resume on another provider.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, ClassVar, cast

from ..messages import Message
from ..model import ModelReply, TextSink, ToolSpec
from .answer_cap import AnswerCap, AnswerWatch
from .base import GarbledReply, ProviderModel, ReplyCut, StreamEnded, stream_guarded
from .convert_openai import INTERRUPTED, from_openai, to_openai, tools_to_openai
from .failure import Failure
from .openai_failures import classify_openai_error
from .openai_sse import openai_client
from .openai_stream import CompletionAssembler, made_progress, thought_in
from .read_bound import bounded_reads
from .retry import Sleep
from .settings import ModelSettings
from .stream_guard import ServerStopped
from .token_counts import estimated_usage, token_count
from .window import recent

__all__ = [
    "DEFAULT_OPENAI_BASE_URL",
    "OpenAICompatibleModel",
    "OpenAIModel",
    "classify_openai_error",
]

if TYPE_CHECKING:
    from openai import AsyncOpenAI
    from openai.types.chat import ChatCompletion

DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"

log = logging.getLogger("agent_core.providers")

# After the finish_reason only the usage chunk (asked for) and [DONE] are to come, at once;
# a gateway may drop both and hold the connection open. Quiet this long, the reply is whole.
_AFTER_FINISH_S = 5.0


class OpenAIModel(ProviderModel["AsyncOpenAI"]):
    """OpenAI via ``POST {base_url}/chat/completions``; ``name`` is ``openai:<model>``."""

    provider = "openai"
    label = "OpenAI"
    key_env = "OPENAI_API_KEY"
    base_url_env = "OPENAI_BASE_URL"
    path = "/chat/completions"
    sdk = "openai"
    request_id_header = "x-request-id"
    limit_param: ClassVar[str] = "max_completion_tokens"
    # A longer tools array is refused (400 array_above_max_length): see tool_limit.
    max_tools: ClassVar[int | None] = 128

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
            base_url=base_url or DEFAULT_OPENAI_BASE_URL,
            settings=settings,
            sleep=sleep,
            rng=rng,
        )

    def _make_client(self) -> AsyncOpenAI:
        import openai

        return openai_client(
            api_key=self._secret,
            base_url=self._base_url,
            max_retries=0,
            timeout=self._settings.timeout_s,
            http_client=openai.DefaultAsyncHttpxClient(**bounded_reads(self._settings.read_limit)),
        )

    def _classify(self, exc: Exception) -> Failure | None:
        return classify_openai_error(exc)

    def request(
        self, *, system: str, messages: Sequence[Message], tools: Sequence[ToolSpec]
    ) -> dict[str, Any]:
        """The JSON body ``complete`` sends: the conversion layer's whole output."""
        self._check_tools(tools)
        body: dict[str, Any] = {
            "model": self._model,
            "messages": to_openai(
                system, recent(messages, budget_chars=self._settings.history_chars)
            ),
            self.limit_param: self.max_tokens,
        }
        if tools:
            body["tools"] = tools_to_openai(tools)
        return body

    async def complete(
        self, *, system: str, messages: Sequence[Message], tools: Sequence[ToolSpec]
    ) -> ModelReply:
        client = await self._client()

        body = self.request(system=system, messages=messages, tools=tools)

        async def attempt() -> ChatCompletion:
            async with self._bounded():
                completion: ChatCompletion = await client.chat.completions.create(**body)
            choices = getattr(completion, "choices", None) or [None]
            _not_interrupted(getattr(choices[0], "finish_reason", None))
            return completion

        reply = await self._call(attempt)
        return self._reply(reply, body)

    async def stream(
        self,
        *,
        system: str,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec],
        sink: TextSink,
    ) -> ModelReply:
        client = await self._client()
        import openai

        body = self.request(system=system, messages=messages, tools=tools)
        body.update(stream=True, stream_options={"include_usage": True})
        handed_over = False
        # a server's own thinking fields: DeepSeek's lie past max_tokens
        watch = AnswerWatch(AnswerCap(max_tokens=self.max_tokens, thinking_apart=True))

        async def attempt() -> ChatCompletion:
            nonlocal handed_over
            watch.begin()
            if handed_over:  # a retry after text went out: that text is void
                handed_over = False
                await sink.restart()
            assembler = CompletionAssembler()
            async with self._bounded():
                chunks = await client.chat.completions.create(**body)
            request = chunks.response.request

            guarded = stream_guarded(
                chunks,
                passes=(openai.APIError,),
                broken=ReplyCut,
                # The SDK's own word for a connection lost midway (its aiohttp transport
                # wraps it); not its timeout, a subclass: a stall is told as one.
                dropped=lambda exc: type(exc) is openai.APIConnectionError,
                stalled=lambda: openai.APITimeoutError(request=request),
                quiet_s=self._settings.timeout_s,
                progress=made_progress,
                whole=lambda: assembler.finished,
                whole_quiet_s=min(self._settings.timeout_s, _AFTER_FINISH_S),
            )
            # Its headers came with the 200: a failure from here on is told with them.
            with self._answered(chunks.response.headers):
                async with chunks, aclosing(guarded):  # left at the usage chunk: closed then
                    async for chunk in guarded:
                        try:
                            text = assembler.add(chunk)
                        except Exception as exc:  # a chunk that does not fit the format
                            raise GarbledReply(f"a malformed chunk: {type(exc).__name__}") from exc
                        if text:
                            handed_over = True
                            await sink.text(text)
                        if watch.passed(assembler):
                            break
                        if assembler.finished and chunk.usage is not None and not chunk.choices:
                            break  # the usage chunk is the reply's last: [DONE] may never come
                # A body that ends before the finish_reason is a reply cut short (retried like a
                # dropped stream), not a whole one; one with no chunk at all may be no reply.
                if assembler.chunks == 0:
                    raise self._no_events(chunks.response.headers.get("content-type", ""))
                if not assembler.finished and not watch.cut:
                    raise ReplyCut(StreamEnded("before its finish_reason"))
                _not_interrupted(assembler.finish_reason)
                return assembler.completion()

        completion = await self._call(attempt, sink=sink)
        reply = self._reply(completion, body, cut=watch.cut is not None, thought=watch.thought)
        return watch.settled(reply, model=self.name)

    def _reply(
        self,
        completion: object,
        body: dict[str, Any],
        *,
        cut: bool = False,
        thought: int | None = None,
    ) -> ModelReply:
        """``completion`` as a reply; ``cut``: signoff closed its stream before the usage
        chunk, so signoff's own count stands for its usage, no provider having left it out
        (not warned of, not counted as usage-missing). A count of signoff's counts the
        ``thought`` characters of thinking as output (a stream's, which the completion
        does not keep; by default those of its message)."""
        from openai.types.chat import ChatCompletion

        reply = self._parse(
            completion,
            ChatCompletion,
            lambda: from_openai(cast(ChatCompletion, completion), fallback_model=self._model),
        )
        usage = cast(ChatCompletion, completion).usage
        if thought is None:
            choices = cast(ChatCompletion, completion).choices or []
            thought = sum(thought_in(getattr(c, "message", None)) for c in choices[:1])
        if cut and usage is None:
            estimate = estimated_usage(body, reply, thought=thought)
            return reply.model_copy(update={"usage": estimate})
        if usage is not None:
            written = token_count(usage, "completion_tokens")
            reply = _cut_at(reply, limit=body.get(self.limit_param), written=written)
        # The API counts at least the prompt: a usage of no token at all (a server's or a
        # proxy's zeros, counts that are not numbers) is one not reported, as Anthropic's.
        return self._with_usage(reply, body, reported=reply.usage.total > 0, thought=thought)


def _not_interrupted(finish_reason: object) -> None:
    """``ReplyCut`` for a reply its server says it broke off (``INTERRUPTED``): what
    arrived is no answer, and its calls may be a list cut short; tried again like a
    stream cut short, and told as one that broke off if it stays so."""
    if isinstance(finish_reason, str) and finish_reason in INTERRUPTED:
        raise ReplyCut(ServerStopped(finish_reason))


def _cut_at(reply: ModelReply, *, limit: object, written: int) -> ModelReply:
    """``reply`` as cut off at the output limit when its calls wrote exactly all of it,
    whatever its finish reason says: vLLM reports ``tool_calls`` for a streamed call it cut
    at ``max_tokens`` (vllm-project/vllm#58228), down to a name and ``"{}"``, so no call
    of it is taken. Exactly: a server whose limit leaves its thinking out (DeepSeek's) may
    count more than the limit in a whole reply."""
    if reply.stop_reason == "tool_use" and isinstance(limit, int) and written == limit > 0:
        return reply.model_copy(update={"stop_reason": "max_tokens"})
    return reply


class OpenAICompatibleModel(OpenAIModel):
    """A Chat Completions server at ``OPENAI_BASE_URL``; ``name`` is
    ``openai-compatible:<model>``."""

    provider = "openai-compatible"
    label = "OpenAI-compatible server"
    limit_param = "max_tokens"
    max_tools = None  # none of them documents a cap: a server that has one says so
    # A local server's context window counts the output limit (vLLM refuses a request
    # whose prompt and limit overflow it), and local models' windows are often small.
    default_max_tokens = 4_096
