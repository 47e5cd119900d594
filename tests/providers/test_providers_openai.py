"""OpenAIModel / OpenAICompatibleModel against the fake Chat Completions API."""

from __future__ import annotations

import json

import pytest
from fake_openai import Call, FakeOpenAI
from fake_provider_http import Scripted
from provider_samples import BROKEN_ARGS, FOREIGN_ID_PORTABLE, SYSTEM, TOOLS, TRANSCRIPT
from providers_testkit import OPENAI_KEY, fast, record

from agent_core.messages import Message, ToolResultMessage, Usage, UserMessage
from agent_core.model import Model, RawToolCall
from agent_core.providers import OpenAICompatibleModel, OpenAIModel, ProviderResponseError


def make(api: FakeOpenAI, model: str = "gpt-4o") -> OpenAIModel:
    return OpenAIModel(model, api_key=OPENAI_KEY, base_url=api.base_url, settings=fast())


async def test_plain_text_reply(openai_api: FakeOpenAI) -> None:
    openai_api.reply("All green.", prompt_tokens=33, completion_tokens=4)
    model: Model = make(openai_api)
    reply = await model.complete(system=SYSTEM, messages=[UserMessage(text="hi")], tools=[])
    assert (reply.text, reply.stop_reason, reply.model) == ("All green.", "end_turn", "gpt-4o")
    assert reply.usage == Usage(input_tokens=33, output_tokens=4)
    assert model.name == "openai:gpt-4o"
    [req] = openai_api.requests
    assert req.path == "/v1/chat/completions"
    assert req.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert req.body == {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": "hi"},
        ],
        "max_completion_tokens": 1024,
    }


async def test_multi_tool_turn_passes_raw_argument_strings(openai_api: FakeOpenAI) -> None:
    openai_api.reply(
        "Checking two things.",
        tool_calls=[
            Call("get_pods", '{"ns": "checkout"}', id="call_a"),
            Call("restart", '{"deploy": "checkout"', id="call_b"),  # malformed
        ],
    )
    reply = await make(openai_api).complete(
        system=SYSTEM, messages=[UserMessage(text="fix it")], tools=TOOLS
    )
    assert reply.text == "Checking two things."
    assert reply.stop_reason == "tool_use"
    assert reply.tool_calls == (
        RawToolCall(id="call_a", name="get_pods", arguments='{"ns": "checkout"}'),
        RawToolCall(id="call_b", name="restart", arguments='{"deploy": "checkout"'),
    )
    assert openai_api.requests[0].body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": t.name,
                "description": t.description,
                "parameters": t.input_schema,
            },
        }
        for t in TOOLS
    ]


async def test_malformed_arguments_round_trip(openai_api: FakeOpenAI) -> None:
    """Broken arguments come back raw, are stored with a parse error, and are sent back
    verbatim next turn; the conversation stays valid."""
    openai_api.reply(tool_calls=[Call("get_pods", "{ns: checkout", id="call_bad")])
    openai_api.reply("Sorry, let me retry.")
    model = make(openai_api)
    first = await model.complete(system="", messages=[UserMessage(text="pods?")], tools=TOOLS)
    stored = record(first)
    assert stored.tool_calls[0].arguments is None
    assert stored.tool_calls[0].parse_error
    transcript: list[Message] = [
        UserMessage(text="pods?"),
        stored,
        ToolResultMessage(
            call_id="call_bad", name="get_pods", content="invalid JSON arguments", status="error"
        ),
    ]
    await model.complete(system="", messages=transcript, tools=TOOLS)
    sent = openai_api.requests[1].body["messages"]
    assert sent[1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_bad",
                "type": "function",
                "function": {"name": "get_pods", "arguments": "{ns: checkout"},
            }
        ],
    }
    assert sent[2] == {
        "role": "tool",
        "tool_call_id": "call_bad",
        "content": "[status: error] invalid JSON arguments",
    }


async def test_full_transcript_request_json(openai_api: FakeOpenAI) -> None:
    openai_api.reply("Restarted.")
    await make(openai_api).complete(system=SYSTEM, messages=TRANSCRIPT, tools=TOOLS)
    assert openai_api.requests[0].body["messages"] == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "Why is checkout down?"},
        {
            "role": "assistant",
            "content": "Let me check the pods.",
            "tool_calls": [
                {
                    "id": "toolu_01A",
                    "type": "function",
                    "function": {"name": "get_pods", "arguments": '{"ns":"checkout"}'},
                },
                {
                    "id": FOREIGN_ID_PORTABLE,
                    "type": "function",
                    "function": {"name": "restart", "arguments": '{"deploy":"checkout"}'},
                },
                {
                    "id": "toolu_01C",
                    "type": "function",
                    "function": {"name": "get_pods", "arguments": BROKEN_ARGS},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "toolu_01A", "content": "checkout-1 CrashLoopBackOff"},
        {
            "role": "tool",
            "tool_call_id": FOREIGN_ID_PORTABLE,
            "content": "[status: denied] denied by @bob",
        },
        {
            "role": "tool",
            "tool_call_id": "toolu_01C",
            "content": "[status: error] arguments were not valid JSON: Expecting value: "
            "line 1 column 8",
        },
        {"role": "user", "content": "@bob later approved the restart."},
        {"role": "user", "content": "Any update?"},
    ]


@pytest.mark.parametrize(
    ("finish", "calls", "ours"),
    [
        ("stop", False, "end_turn"),
        ("length", False, "max_tokens"),
        ("content_filter", False, "refusal"),
        ("tool_calls", True, "tool_use"),
        ("stop", True, "tool_use"),  # some compatible servers say "stop" with calls
        ("length", True, "max_tokens"),
        ("weird", False, "end_turn"),
    ],
)
async def test_finish_reasons(openai_api: FakeOpenAI, finish: str, calls: bool, ours: str) -> None:
    tool_calls = [Call("get_pods", "{}")] if calls else []
    openai_api.reply("x", tool_calls=tool_calls, finish_reason=finish)
    reply = await make(openai_api).complete(system="", messages=[UserMessage(text="q")], tools=[])
    assert reply.stop_reason == ours


async def test_legacy_function_call(openai_api: FakeOpenAI) -> None:
    openai_api.reply(function_call=Call("get_pods", '{"ns":"a"}'))
    reply = await make(openai_api).complete(system="", messages=[UserMessage(text="q")], tools=[])
    assert reply.stop_reason == "tool_use"
    [call] = reply.tool_calls
    assert (call.name, call.arguments) == ("get_pods", '{"ns":"a"}')
    assert call.id == ""  # the engine's parser derives a deterministic id


async def test_refusal_becomes_text(openai_api: FakeOpenAI) -> None:
    openai_api.reply(refusal="I can't help with that.")
    reply = await make(openai_api).complete(system="", messages=[UserMessage(text="q")], tools=[])
    assert (reply.text, reply.stop_reason) == ("I can't help with that.", "refusal")


async def test_missing_usage_is_zero(openai_api: FakeOpenAI) -> None:
    openai_api.reply("ok", usage=False)
    reply = await make(openai_api).complete(system="", messages=[UserMessage(text="q")], tools=[])
    assert reply.usage == Usage()


async def test_no_choices_is_a_response_error(openai_api: FakeOpenAI) -> None:
    body = openai_api.completion("x")
    body["choices"] = []
    openai_api.enqueue(Scripted(body=body))
    with pytest.raises(ProviderResponseError, match="cannot read"):
        await make(openai_api).complete(system="", messages=[UserMessage(text="q")], tools=[])


async def test_compatible_server_uses_max_tokens_and_any_key(openai_api: FakeOpenAI) -> None:
    openai_api.reply("local hello", model="llama3.1:8b")
    model = OpenAICompatibleModel(
        "llama3.1:8b", api_key="not-needed", base_url=openai_api.base_url, settings=fast()
    )
    reply = await model.complete(system="", messages=[UserMessage(text="hi")], tools=[])
    assert reply.text == "local hello"
    assert model.name == "openai-compatible:llama3.1:8b"
    body = openai_api.requests[0].body
    assert body["max_tokens"] == 1024
    assert "max_completion_tokens" not in body
    assert json.dumps(body)  # plain JSON


async def test_compatible_server_quirks(openai_api: FakeOpenAI) -> None:
    """Content as a list of parts, calls without ids, object arguments."""
    body = openai_api.completion(finish_reason="stop", model="qwen")
    body["choices"][0]["message"]["content"] = [{"type": "text", "text": "a"}, {"text": "b"}]
    body["choices"][0]["message"]["tool_calls"] = [
        {"function": {"name": "get_pods", "arguments": {"ns": "x"}}}
    ]
    openai_api.enqueue(Scripted(body=body))
    model = OpenAICompatibleModel("qwen", api_key="x", base_url=openai_api.base_url)
    reply = await model.complete(system="", messages=[UserMessage(text="q")], tools=[])
    assert reply.text == "ab"
    assert reply.tool_calls == (RawToolCall(id="", name="get_pods", arguments={"ns": "x"}),)
    assert reply.stop_reason == "tool_use"
    await model.aclose()
