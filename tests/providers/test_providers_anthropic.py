"""AnthropicModel against the fake Messages API, through the real SDK."""

from __future__ import annotations

import dataclasses

import pytest
from fake_anthropic import FakeAnthropic, ToolUse
from provider_samples import (
    BROKEN_ARGS,
    FOREIGN_ID,
    FOREIGN_ID_PORTABLE,
    SYSTEM,
    TOOLS,
    TRANSCRIPT,
)
from providers_testkit import ANTHROPIC_KEY, fast

from agent_core.messages import (
    AssistantMessage,
    Message,
    ToolCall,
    ToolResultMessage,
    Usage,
    UserMessage,
)
from agent_core.model import Model, RawToolCall
from agent_core.providers import AnthropicModel, cost_usd


def make(
    api: FakeAnthropic, model: str = "claude-sonnet-4-6", *, cache: bool = False
) -> AnthropicModel:
    """The model, by default without prompt-cache marks: most tests here are about the
    conversion (test_providers_prompt_cache.py is about the marks)."""
    settings = dataclasses.replace(fast(), prompt_cache=cache)
    return AnthropicModel(model, api_key=ANTHROPIC_KEY, base_url=api.base_url, settings=settings)


async def test_plain_text_reply(anthropic_api: FakeAnthropic) -> None:
    anthropic_api.reply("Checkout is healthy.", input_tokens=42, output_tokens=7)
    model: Model = make(anthropic_api, cache=True)
    reply = await model.complete(system=SYSTEM, messages=[UserMessage(text="hi")], tools=[])

    assert reply.text == "Checkout is healthy."
    assert reply.tool_calls == ()
    assert reply.stop_reason == "end_turn"
    assert reply.usage == Usage(input_tokens=42, output_tokens=7)
    assert reply.model == "claude-sonnet-4-6"
    assert model.name == "anthropic:claude-sonnet-4-6"

    [req] = anthropic_api.requests
    assert req.path == "/v1/messages"
    ephemeral = {"type": "ephemeral"}
    assert req.body == {
        "model": "claude-sonnet-4-6",
        "max_tokens": 1024,
        "system": [{"type": "text", "text": SYSTEM, "cache_control": ephemeral}],
        "messages": [
            {
                "role": "user",
                "content": [{"type": "text", "text": "hi", "cache_control": ephemeral}],
            }
        ],
    }
    assert req.headers["anthropic-version"]
    assert req.headers["x-stainless-retry-count"] == "0"


async def test_multi_tool_turn_with_interleaved_text(anthropic_api: FakeAnthropic) -> None:
    anthropic_api.reply(
        "First the pods.",
        ToolUse("get_pods", {"ns": "checkout"}, id="toolu_01X"),
        "Then the restart.",
        ToolUse("restart", {"deploy": "checkout"}, id="toolu_01Y"),
        input_tokens=300,
        output_tokens=60,
    )
    reply = await make(anthropic_api).complete(
        system=SYSTEM, messages=[UserMessage(text="fix checkout")], tools=TOOLS
    )
    assert reply.text == "First the pods.\n\nThen the restart."
    assert reply.tool_calls == (
        RawToolCall(id="toolu_01X", name="get_pods", arguments={"ns": "checkout"}),
        RawToolCall(id="toolu_01Y", name="restart", arguments={"deploy": "checkout"}),
    )
    assert reply.stop_reason == "tool_use"
    body = anthropic_api.requests[0].body
    assert body["tools"] == [
        {"name": t.name, "description": t.description, "input_schema": t.input_schema}
        for t in TOOLS
    ]


async def test_full_transcript_request_json(anthropic_api: FakeAnthropic) -> None:
    anthropic_api.reply("The restart was approved; checkout is back.")
    await make(anthropic_api).complete(system=SYSTEM, messages=TRANSCRIPT, tools=TOOLS)

    assert anthropic_api.requests[0].body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Why is checkout down?"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me check the pods."},
                {
                    "type": "tool_use",
                    "id": "toolu_01A",
                    "name": "get_pods",
                    "input": {"ns": "checkout"},
                },
                {
                    "type": "tool_use",
                    "id": FOREIGN_ID_PORTABLE,
                    "name": "restart",
                    "input": {"deploy": "checkout"},
                },
                {"type": "tool_use", "id": "toolu_01C", "name": "get_pods", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_01A",
                    "content": "checkout-1 CrashLoopBackOff",
                },
                {
                    "type": "tool_result",
                    "tool_use_id": FOREIGN_ID_PORTABLE,
                    "content": "denied by @bob",
                    "is_error": True,
                },
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_01C",
                    "content": "arguments were not valid JSON: Expecting value: line 1 column 8",
                    "is_error": True,
                },
                {"type": "text", "text": "@bob later approved the restart."},
                {"type": "text", "text": "Any update?"},
            ],
        },
    ]
    assert BROKEN_ARGS not in str(anthropic_api.requests[0].body)
    assert FOREIGN_ID not in str(anthropic_api.requests[0].body)


@pytest.mark.parametrize(
    ("wire", "ours"),
    [
        ("end_turn", "end_turn"),
        ("stop_sequence", "end_turn"),
        ("max_tokens", "max_tokens"),
        ("model_context_window_exceeded", "context_window"),
        ("pause_turn", "pause_turn"),
        ("refusal", "refusal"),
        ("something_new", "end_turn"),
    ],
)
async def test_stop_reasons(anthropic_api: FakeAnthropic, wire: str, ours: str) -> None:
    anthropic_api.reply("x", stop_reason=wire)
    reply = await make(anthropic_api).complete(
        system="", messages=[UserMessage(text="q")], tools=[]
    )
    assert reply.stop_reason == ours
    assert "system" not in anthropic_api.requests[0].body


async def test_tool_use_with_unknown_stop_reason_is_tool_use(anthropic_api: FakeAnthropic) -> None:
    anthropic_api.reply(ToolUse("get_pods", {"ns": "a"}), stop_reason="something_new")
    reply = await make(anthropic_api).complete(
        system="", messages=[UserMessage(text="q")], tools=[]
    )
    assert reply.stop_reason == "tool_use"


async def test_usage_counts_cache_tokens_and_costs(anthropic_api: FakeAnthropic) -> None:
    anthropic_api.reply(
        "ok",
        input_tokens=1000,
        output_tokens=200,
        usage_extra={"cache_read_input_tokens": 4000, "cache_creation_input_tokens": 500},
    )
    reply = await make(anthropic_api).complete(
        system="", messages=[UserMessage(text="q")], tools=[]
    )
    # Each billed at its own rate: the cache read was priced at the full input price
    # (ten times its bill) and the write at it (a quarter below its bill).
    assert reply.usage == Usage(
        input_tokens=1000, output_tokens=200, cache_read_tokens=4000, cache_write_tokens=500
    )
    assert reply.usage.total == 5700
    cost = cost_usd(reply.model, reply.usage)
    assert cost == pytest.approx((1000 * 3.0 + 500 * 3.75 + 4000 * 0.30 + 200 * 15.0) / 1e6)


async def test_assistant_only_edges_stay_valid(anthropic_api: FakeAnthropic) -> None:
    """Empty assistant turns are dropped, missing results synthesized, leading assistant
    turns get a user turn before them, and consecutive user turns merge."""
    anthropic_api.reply("ok")
    messages: list[Message] = [
        AssistantMessage(text="Earlier summary."),
        UserMessage(text="one"),
        UserMessage(text="two"),
        AssistantMessage(text="", tool_calls=()),
        AssistantMessage(text="", tool_calls=(ToolCall(id="t1", name="get_pods", arguments={}),)),
    ]
    await make(anthropic_api).complete(system="", messages=messages, tools=TOOLS)
    sent = anthropic_api.requests[0].body["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user", "assistant", "user"]
    assert sent[2]["content"] == [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]
    assert sent[4]["content"][0]["tool_use_id"] == "t1"
    assert sent[4]["content"][0]["is_error"] is True
    assert all(m["content"] for m in sent)


async def test_late_result_without_call_becomes_text(anthropic_api: FakeAnthropic) -> None:
    anthropic_api.reply("ok")
    messages: list[Message] = [
        UserMessage(text="go"),
        AssistantMessage(text="done"),
        ToolResultMessage(call_id="toolu_old", name="restart", content="restarted", status="ok"),
    ]
    await make(anthropic_api).complete(system="", messages=messages, tools=TOOLS)
    last = anthropic_api.requests[0].body["messages"][-1]
    assert last == {
        "role": "user",
        "content": [
            {
                "type": "text",
                "text": "[result of tool restart (call toolu_old), status ok]\nrestarted",
            }
        ],
    }
