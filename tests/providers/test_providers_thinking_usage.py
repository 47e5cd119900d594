"""A reply whose server reports no usage is estimated with its thinking, as its answer is.

A reasoning server (DeepSeek's ``reasoning_content``, a gateway in front of Claude that
leaves the usage out) bills its thinking as output. signoff's estimate for a reply with
no usage counted the request and the answer only, so 8,000 characters of thinking before
an answer of a line counted as 3 tokens of output, and the session's token and cost
budgets ran far behind the bill. A reply cut at its cap already counted what arrived,
thinking included; one that ended on its own now does too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace

from engine_support import RecordingSink
from fake_anthropic import FakeAnthropic
from fake_openai import FakeOpenAI
from fake_provider_http import Scripted
from provider_samples import SYSTEM
from providers_testkit import ANTHROPIC_KEY, OPENAI_KEY, SleepRecorder, fast

from agent_core.messages import UserMessage
from agent_core.providers import AnthropicModel, OpenAICompatibleModel

ASK = [UserMessage(text="why is checkout slow?", user="U0ALICE", ts="1700000000.000100")]
THOUGHT = "the p99 rises when the cache is cold, so " * 200  # 8,200 characters
ANSWER = "Cold cache."


def deepseek(api: FakeOpenAI, sleeps: SleepRecorder) -> OpenAICompatibleModel:
    settings = replace(fast(), max_tokens=None)
    return OpenAICompatibleModel("deepseek-reasoner", api_key=OPENAI_KEY, base_url=api.base_url, settings=settings, sleep=sleeps)  # fmt: skip


def _sse(events: Sequence[tuple[str | None, object]]) -> Scripted:
    body = "".join(
        (f"event: {name}\n" if name else "")
        + f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n"
        for name, data in events
    )
    return Scripted(text=body, content_type="text/event-stream")


def _thought_out(tokens: int) -> None:
    # about 4 characters a token, as the estimate counts the answer
    assert tokens >= (len(THOUGHT) + len(ANSWER)) // 4, tokens


async def test_a_streamed_reasoning_reply_without_usage_counts_its_thinking(
    openai_api: FakeOpenAI, sleeps: SleepRecorder
) -> None:
    head = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "deepseek-reasoner"}  # fmt: skip

    def chunk(delta: dict[str, object], finish: str | None = None) -> tuple[None, object]:
        return None, {**head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    pieces = [THOUGHT[i : i + 500] for i in range(0, len(THOUGHT), 500)]
    openai_api.enqueue(
        _sse(
            [chunk({"role": "assistant", "content": None})]
            + [chunk({"reasoning_content": p, "content": None}) for p in pieces]
            + [chunk({"content": ANSWER}), chunk({}, "stop"), (None, "[DONE]")]
        )
    )
    reply = await deepseek(openai_api, sleeps).stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())  # fmt: skip
    assert (reply.text, reply.stop_reason, reply.usage_missing) == (ANSWER, "end_turn", True)
    assert reply.usage_estimate is not None
    _thought_out(reply.usage_estimate.output_tokens)


async def test_a_reasoning_reply_without_streaming_counts_its_thinking(
    openai_api: FakeOpenAI, sleeps: SleepRecorder
) -> None:
    body = openai_api.completion(ANSWER, usage=False)
    body["choices"][0]["message"]["reasoning_content"] = THOUGHT
    openai_api.enqueue(Scripted(body=body))
    reply = await deepseek(openai_api, sleeps).complete(system=SYSTEM, messages=ASK, tools=[])
    assert (reply.text, reply.usage_missing) == (ANSWER, True)
    assert reply.usage_estimate is not None
    _thought_out(reply.usage_estimate.output_tokens)


def _claude(api: FakeAnthropic, sleeps: SleepRecorder) -> AnthropicModel:
    settings = fast(max_tokens=16_384)
    return AnthropicModel("claude-sonnet-4-6", api_key=ANTHROPIC_KEY, base_url=api.base_url, settings=settings, sleep=sleeps)  # fmt: skip


async def test_claudes_thinking_through_a_gateway_without_usage_is_counted(
    anthropic_api: FakeAnthropic, sleeps: SleepRecorder
) -> None:
    """A gateway that sends Claude's stream with no usage at all: its thinking is output."""
    message: dict[str, object] = {"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
               "content": [], "stop_reason": None, "stop_sequence": None}  # fmt: skip

    def block(index: int, kind: str, **fields: object) -> tuple[str, object]:
        block = {"type": kind, kind: "", **fields}
        return "content_block_start", {"type": "content_block_start", "index": index, "content_block": block}  # fmt: skip

    def delta(index: int, kind: str, text: str) -> tuple[str, object]:
        piece = {"type": f"{kind}_delta", kind: text}
        return "content_block_delta", {"type": "content_block_delta", "index": index, "delta": piece}  # fmt: skip

    def stop(index: int) -> tuple[str, object]:
        return "content_block_stop", {"type": "content_block_stop", "index": index}

    ended = {"stop_reason": "end_turn", "stop_sequence": None}
    pieces = [THOUGHT[i : i + 500] for i in range(0, len(THOUGHT), 500)]
    anthropic_api.enqueue(
        _sse(
            [
                ("message_start", {"type": "message_start", "message": message}),
                block(0, "thinking", signature=""),
                *[delta(0, "thinking", p) for p in pieces],
                stop(0),
                block(1, "text"),
                delta(1, "text", ANSWER),
                stop(1),
                ("message_delta", {"type": "message_delta", "delta": ended}),
                ("message_stop", {"type": "message_stop"}),
            ]
        )
    )
    reply = await _claude(anthropic_api, sleeps).stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())  # fmt: skip
    assert (reply.text, reply.usage_missing) == (ANSWER, True)
    assert reply.usage_estimate is not None
    _thought_out(reply.usage_estimate.output_tokens)


async def test_claudes_thinking_without_streaming_and_usage_is_counted(
    anthropic_api: FakeAnthropic, sleeps: SleepRecorder
) -> None:
    body = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-6",
            "content": [{"type": "thinking", "thinking": THOUGHT, "signature": "sig"},
                        {"type": "text", "text": ANSWER}],
            "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": 0, "output_tokens": 0}}  # fmt: skip
    anthropic_api.enqueue(Scripted(body=body))
    reply = await _claude(anthropic_api, sleeps).complete(system=SYSTEM, messages=ASK, tools=[])
    assert (reply.text, reply.usage_missing) == (ANSWER, True)
    assert reply.usage_estimate is not None
    _thought_out(reply.usage_estimate.output_tokens)
