"""A reasoning server's thinking has an allowance of its own beside the answer's cap.

The cap on one streamed answer (``ANSWER_CHARS_PER_TOKEN`` characters a token of the
output limit) counted every string an OpenAI-compatible server adds to a delta, its
thinking (``reasoning_content``, ``reasoning``) too, and counted it twice when a server
sent it under both names. DeepSeek's thinking is not within ``max_tokens`` (up to 32K
tokens past it), so a plain reasoning answer under the compatible default of 4,096 tokens
(a cap of 40,960 characters) was cut as ``overlong``. Now the visible answer keeps its cap
and the thinking, counted once, is bounded apart (``THINKING_TOKENS``). Claude's thinking
is within ``max_tokens``: it still counts with the answer there.
"""

from __future__ import annotations

import json
from dataclasses import replace

from engine_support import RecordingSink
from fake_anthropic import FakeAnthropic
from fake_openai import FakeOpenAI
from fake_provider_http import Scripted
from provider_samples import SYSTEM
from providers_testkit import ANTHROPIC_KEY, OPENAI_KEY, SleepRecorder, fast

from agent_core.messages import UserMessage
from agent_core.providers import (
    ANSWER_CHARS_PER_TOKEN,
    THINKING_TOKENS,
    AnthropicModel,
    OpenAICompatibleModel,
)

ASK = [UserMessage(text="why is checkout slow?", user="U0ALICE", ts="1700000000.000100")]
PIECE = "the p99 rises when the cache is cold, so " * 50  # 2,050 characters a piece
THINKING_CAP = THINKING_TOKENS * ANSWER_CHARS_PER_TOKEN


def deepseek(api: FakeOpenAI, sleeps: SleepRecorder) -> OpenAICompatibleModel:
    settings = replace(fast(), max_tokens=None)  # its default
    return OpenAICompatibleModel("deepseek-reasoner", api_key=OPENAI_KEY, base_url=api.base_url, settings=settings, sleep=sleeps)  # fmt: skip


def thinking_then(answer: str, *, chars: int, names: tuple[str, ...]) -> Scripted:
    """A stream that thinks ``chars`` characters (each piece under every one of ``names``),
    then answers."""

    def chunk(delta: dict[str, object], finish: str | None = None) -> str:
        body = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "deepseek-reasoner",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip
        return f"data: {json.dumps(body)}\n\n"

    pieces = [chunk({"role": "assistant", "content": None})]
    pieces += [chunk(dict.fromkeys(names, PIECE))] * -(-chars // len(PIECE))
    pieces += [chunk({"content": answer}), chunk({}, "stop"), "data: [DONE]\n\n"]
    return Scripted(text="".join(pieces), content_type="text/event-stream")


async def test_thinking_past_the_answers_cap_is_not_cut(
    openai_api: FakeOpenAI, sleeps: SleepRecorder
) -> None:
    model = deepseek(openai_api, sleeps)
    assert model.max_tokens * ANSWER_CHARS_PER_TOKEN < 60_000
    openai_api.enqueue(thinking_then("Cold cache.", chars=60_000, names=("reasoning_content",)))
    reply = await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())
    assert (reply.text, reply.stop_reason) == ("Cold cache.", "end_turn")


async def test_thinking_sent_under_two_names_is_counted_once(
    openai_api: FakeOpenAI, sleeps: SleepRecorder
) -> None:
    chars = THINKING_CAP * 6 // 10  # within the allowance once, past it twice
    names = ("reasoning_content", "reasoning")
    openai_api.enqueue(thinking_then("Cold cache.", chars=chars, names=names))
    reply = await deepseek(openai_api, sleeps).stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())  # fmt: skip
    assert (reply.text, reply.stop_reason) == ("Cold cache.", "end_turn")


async def test_thinking_past_its_own_allowance_is_cut(
    openai_api: FakeOpenAI, sleeps: SleepRecorder
) -> None:
    """A server that never stops thinking is still bounded: cut, not retried."""
    openai_api.enqueue(thinking_then("never read", chars=THINKING_CAP + 4 * len(PIECE), names=("reasoning",)))  # fmt: skip
    reply = await deepseek(openai_api, sleeps).stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())  # fmt: skip
    assert (reply.text, reply.stop_reason) == ("", "overlong")
    assert len(openai_api.requests) == 1 and sleeps.calls == []
    # Its output counts as at least what was thought, the API's count never having come.
    counted = reply.usage.output_tokens or (reply.usage_estimate or reply.usage).output_tokens
    assert counted >= THINKING_CAP // 4


async def test_claudes_thinking_counts_with_the_answer(
    anthropic_api: FakeAnthropic, sleeps: SleepRecorder
) -> None:
    """Claude thinks within ``max_tokens``, so thinking past the answer's cap is a server
    ignoring the limit, and cut there."""
    limit = 256
    message: dict[str, object] = {"id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": [],
               "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 1}}  # fmt: skip
    thinking = {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": PIECE}}  # fmt: skip
    opened = {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}}  # fmt: skip
    events = [
        ("message_start", {"type": "message_start", "message": message}),
        ("content_block_start", opened),
        *[("content_block_delta", thinking)] * 4,
        ("message_stop", {"type": "message_stop"}),
    ]
    body = "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events)
    anthropic_api.enqueue(Scripted(text=body, content_type="text/event-stream"))
    settings = fast(max_tokens=limit)
    model = AnthropicModel("claude-sonnet-4-6", api_key=ANTHROPIC_KEY, base_url=anthropic_api.base_url, settings=settings, sleep=sleeps)  # fmt: skip
    assert len(PIECE) < limit * ANSWER_CHARS_PER_TOKEN < 4 * len(PIECE)
    reply = await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())
    assert reply.stop_reason == "overlong" and len(anthropic_api.requests) == 1


async def test_thinking_in_content_parts_is_bounded_too(
    openai_api: FakeOpenAI, sleeps: SleepRecorder
) -> None:
    """Magistral streams its thinking as ``thinking`` parts of a ``content`` list, which no
    count read: a server thinking so for ever was bounded only by the session's time."""
    head = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "magistral"}
    part = {"type": "thinking", "thinking": [{"type": "text", "text": PIECE}]}
    thinking = {**head, "choices": [{"index": 0, "delta": {"content": [part]}, "finish_reason": None}]}  # fmt: skip
    answer = {**head, "choices": [{"index": 0, "delta": {"content": [{"type": "text", "text": "never read"}]}, "finish_reason": "stop"}]}  # fmt: skip
    count = THINKING_CAP // len(PIECE) + 4
    body = (
        f"data: {json.dumps(thinking)}\n\n" * count
        + f"data: {json.dumps(answer)}\n\ndata: [DONE]\n\n"
    )
    openai_api.enqueue(Scripted(text=body, content_type="text/event-stream"))
    reply = await deepseek(openai_api, sleeps).stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())  # fmt: skip
    assert (reply.text, reply.stop_reason) == ("", "overlong")
    assert len(openai_api.requests) == 1 and sleeps.calls == []
