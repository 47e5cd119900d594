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

import asyncio
import json
import logging
from dataclasses import replace

import pytest
from engine_support import EngineFactory, RecordingSink, message, replies, transcript
from fake_anthropic import FakeAnthropic
from fake_openai import FakeOpenAI
from fake_provider_http import Scripted
from provider_samples import SYSTEM
from providers_testkit import ANTHROPIC_KEY, OPENAI_KEY, SleepRecorder, fast

from agent_core.messages import AssistantMessage, UserMessage
from agent_core.providers import (
    ANSWER_CHARS_PER_TOKEN,
    THINKING_TOKENS,
    AnthropicModel,
    OpenAICompatibleModel,
)
from agent_core.surface import RecordingSurface
from sessions import Home

ASK = [UserMessage(text="why is checkout slow?", user="U0ALICE", ts="1700000000.000100")]
PIECE = "the p99 rises when the cache is cold, so " * 50  # 2,050 characters a piece
THINKING_CAP = THINKING_TOKENS * ANSWER_CHARS_PER_TOKEN


def deepseek(api: FakeOpenAI, sleeps: SleepRecorder) -> OpenAICompatibleModel:
    settings = replace(fast(), max_tokens=None)  # its default
    return OpenAICompatibleModel("deepseek-reasoner", api_key=OPENAI_KEY, base_url=api.base_url, settings=settings, sleep=sleeps)  # fmt: skip


def thinking_then(
    answer: str, *, chars: int, names: tuple[str, ...], first: dict[str, object] | None = None
) -> Scripted:
    """A stream that thinks ``chars`` characters (each piece under every one of ``names``),
    then answers; ``first``: a delta before the thinking."""

    def chunk(delta: dict[str, object], finish: str | None = None) -> str:
        body = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "deepseek-reasoner",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip
        return f"data: {json.dumps(body)}\n\n"

    pieces = [chunk({"role": "assistant", "content": None})]
    pieces += [chunk(first)] if first else []
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
    assert (reply.text, reply.stop_reason) == ("", "overlong_thinking")
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
    assert (reply.text, reply.stop_reason) == ("", "overlong_thinking")
    assert len(openai_api.requests) == 1 and sleeps.calls == []


ENDLESS_THINKING = THINKING_CAP + 4 * len(PIECE)


async def test_the_log_names_the_thinking_and_its_allowance(
    openai_api: FakeOpenAI, sleeps: SleepRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    """Cut for its thinking, a reply was logged as an answer past its output limit
    (``max_tokens``), a bound it never passed."""
    caplog.set_level(logging.WARNING, logger="agent_core.providers")
    openai_api.enqueue(thinking_then("never read", chars=ENDLESS_THINKING, names=("reasoning",)))
    await deepseek(openai_api, sleeps).stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())  # fmt: skip
    (said,) = [r.getMessage() for r in caplog.records if "cut off" in r.getMessage()]
    assert said.startswith(
        "openai-compatible:deepseek-reasoner: its thinking went on past its allowance of "
        f"{THINKING_CAP:,} characters ("
    )
    assert "output limit" not in said


async def test_the_thread_is_told_the_thinking_was_cut_not_the_answer(
    openai_api: FakeOpenAI,
    sleeps: SleepRecorder,
    make_engine: EngineFactory,
    surface: RecordingSurface,
) -> None:
    """The thread read "the model's answer went on far past its output limit", though the
    answer was empty, well within it: it was the thinking that went on."""
    openai_api.enqueue(thinking_then("never read", chars=ENDLESS_THINKING, names=("reasoning",)))
    engine = await make_engine(model=deepseek(openai_api, sleeps))
    await engine.ingest(message("why is checkout slow?", ts="1700000000.000100"))
    async with asyncio.timeout(30):
        await engine.idle()
    assert replies(surface) == [
        "(The model's thinking went on far past signoff's allowance for it, so signoff cut "
        "it off; it gave no answer.)"
    ]


async def test_a_call_cut_by_thinking_is_told_so_to_the_model(
    openai_api: FakeOpenAI, sleeps: SleepRecorder, make_engine: EngineFactory, home: Home
) -> None:
    """The call's note told the model its reply went past the output token limit and to
    send the call "in a shorter reply": the reply was short, its thinking was not."""
    started: dict[str, object] = {"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
               "function": {"name": "get_status", "arguments": '{"service": '}}]}  # fmt: skip
    openai_api.enqueue(thinking_then("", chars=ENDLESS_THINKING, names=("reasoning",), first=started))  # fmt: skip
    openai_api.reply("It was cut.")
    engine = await make_engine(model=deepseek(openai_api, sleeps))
    await engine.ingest(message("why is checkout slow?", ts="1700000000.000100"))
    async with asyncio.timeout(30):
        await engine.idle()
    (cut,) = [m for m in transcript(home) if isinstance(m, AssistantMessage) and m.tool_calls]
    assert cut.stop_reason == "overlong_thinking"
    assert cut.tool_calls[0].parse_error == (
        "not run: your thinking went on far past signoff's allowance for it and was cut off "
        "before this call was complete; send the call again after less thinking"
    )
