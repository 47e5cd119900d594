"""A reply cut off mid tool call, through the real SDKs and a real engine turn: Anthropic's
``stop_reason: max_tokens`` (or ``refusal``, a classifier stopping it) after half of an
``input_json_delta``, a Chat Completion's ``finish_reason: length`` (or
``content_filter``) after half of its ``arguments``. The stream itself is whole (it ended
with its last event), so only the stop reason says the call is not: what arrived must
never reach the gate or a tool (the parser would close ``{"service": "api", "replicas": 3``
into a call for 3 replicas), and the model is told. So too when the stop reason says the
calls are whole (``tool_use``, ``tool_calls``) but their JSON ends early: vLLM reports
``tool_calls`` for a streamed call cut off at ``max_tokens`` (vllm-project/vllm#53269),
and a gateway in front of it passes that on in either dialect."""

from __future__ import annotations

import json
from typing import Any

import pytest
from engine_support import EngineFactory, message, replies, transcript
from fake_anthropic import FakeAnthropic
from fake_openai import FakeOpenAI
from fake_provider_http import Scripted
from providers_testkit import ANTHROPIC_KEY, OPENAI_KEY, fast

from agent_core.messages import AssistantMessage, ToolResultMessage
from agent_core.providers import AnthropicModel, OpenAIModel
from agent_core.surface import RecordingSurface
from sessions import Home

HALF = '{"service": "api", "replicas": 3'  # of {"service": "api", "replicas": 30}


def anthropic_cut(name: str, stop: str) -> Scripted:
    start: dict[str, Any] = {"id": "msg_01C", "type": "message", "role": "assistant", "model": "claude-sonnet-4-6",
             "content": [], "stop_reason": None, "stop_sequence": None,
             "usage": {"input_tokens": 40, "output_tokens": 1}}  # fmt: skip
    block = {"type": "tool_use", "id": "toolu_01C", "name": name, "input": {}}
    events: list[tuple[str, dict[str, Any]]] = [
        ("message_start", {"type": "message_start", "message": start}),
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": block}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "input_json_delta", "partial_json": HALF}}),
        ("message_delta", {"type": "message_delta", "usage": {"output_tokens": 64},
                           "delta": {"stop_reason": stop, "stop_sequence": None}}),
        ("message_stop", {"type": "message_stop"}),
    ]  # fmt: skip
    body = "".join(f"event: {n}\ndata: {json.dumps(d)}\n\n" for n, d in events)
    return Scripted(text=body, content_type="text/event-stream")


def openai_cut(name: str, stop: str, *, arguments: str = HALF, written: int = 64) -> Scripted:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"id": "chatcmpl-C", "object": "chat.completion.chunk", "created": 1,
                "model": "gpt-4o", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip

    call = {"index": 0, "id": "call_C", "type": "function", "function": {"name": name, "arguments": arguments}}  # fmt: skip
    usage = {"id": "chatcmpl-C", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
             "choices": [], "usage": {"prompt_tokens": 40, "completion_tokens": written, "total_tokens": 40 + written}}  # fmt: skip
    chunks = [chunk({"role": "assistant", "tool_calls": [call]}), chunk({}, stop), usage]
    body = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
    return Scripted(text=body, content_type="text/event-stream")


@pytest.mark.parametrize(
    ("provider", "stop"),
    [
        ("anthropic", "max_tokens"), ("anthropic", "refusal"), ("anthropic", "tool_use"),
        ("openai", "length"), ("openai", "content_filter"), ("openai", "tool_calls"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("tool", ["scale_service", "service_status"])
async def test_a_call_cut_off_never_runs_and_the_model_is_told(
    anthropic_api: FakeAnthropic,
    openai_api: FakeOpenAI,
    make_engine: EngineFactory,
    home: Home,
    surface: RecordingSurface,
    provider: str,
    stop: str,
    tool: str,
) -> None:
    if provider == "anthropic":
        anthropic_api.enqueue(anthropic_cut(tool, stop)).reply("I ran out of room; asking again.")
        model: AnthropicModel | OpenAIModel = AnthropicModel(
            "claude-sonnet-4-6", api_key=ANTHROPIC_KEY, base_url=anthropic_api.base_url, settings=fast()
        )  # fmt: skip
    else:
        openai_api.enqueue(openai_cut(tool, stop)).reply("I ran out of room; asking again.")
        model = OpenAIModel(
            "gpt-4o", api_key=OPENAI_KEY, base_url=openai_api.base_url, settings=fast()
        )
    engine = await make_engine(model=model)
    await engine.ingest(message("scale api to 30 replicas", ts="1700000000.000100"))
    await engine.idle()

    assert surface.cards == []  # no card for 3 replicas (or for anything)
    [asked] = [m for m in transcript(home) if isinstance(m, AssistantMessage) and m.tool_calls]
    [call] = asked.tool_calls
    assert call.arguments is None and call.raw_arguments is not None
    assert '"replicas": 3' in call.raw_arguments  # what arrived is kept, as it arrived
    [result] = [m for m in transcript(home) if isinstance(m, ToolResultMessage)]
    assert result.status == "error" and "cut off" in result.content
    api: FakeAnthropic | FakeOpenAI = anthropic_api if provider == "anthropic" else openai_api
    assert "was cut off" in json.dumps(api.requests[-1].body)
    assert replies(surface) == ["I ran out of room; asking again."]


@pytest.mark.parametrize(("written", "cut"), [(1024, True), (1500, False)])
async def test_a_reply_that_wrote_up_to_its_output_limit_was_cut_off_whatever_its_finish_reason(
    openai_api: FakeOpenAI, make_engine: EngineFactory, home: Home, written: int, cut: bool
) -> None:
    """vLLM's relabelled cut can end right after a call's name, with ``"arguments": "{}"``
    (vllm-project/vllm#46303): only the usage tells it, exactly the output limit written
    (vllm-project/vllm#58228), and the call ran with no arguments at all. More than the
    limit is a server that leaves its thinking out of it (DeepSeek's): a whole reply."""
    openai_api.enqueue(
        openai_cut("service_status", "tool_calls", arguments='{"service": "api"}', written=written)
    )
    openai_api.reply("Done.")
    engine = await make_engine(
        model=OpenAIModel("gpt-4o", api_key=OPENAI_KEY, base_url=openai_api.base_url, settings=fast(max_tokens=1024))
    )  # fmt: skip
    await engine.ingest(message("status of api", ts="1700000000.000100"))
    await engine.idle()
    [asked] = [m for m in transcript(home) if isinstance(m, AssistantMessage) and m.tool_calls]
    assert (asked.stop_reason == "max_tokens") is cut
    [result] = [m for m in transcript(home) if isinstance(m, ToolResultMessage)]
    assert (result.status == "error" and "output token limit" in result.content) is cut
