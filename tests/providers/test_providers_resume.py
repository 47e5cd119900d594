"""A session recorded with one provider resumes on the other."""

from __future__ import annotations

import json
import re

import pytest
from fake_anthropic import FakeAnthropic, ToolUse
from fake_openai import Call, FakeOpenAI
from provider_samples import SYSTEM, TOOLS
from providers_testkit import ANTHROPIC_KEY, OPENAI_KEY, fast, record

from agent_core.messages import (
    AssistantMessage,
    Message,
    ToolResultMessage,
    UserMessage,
    message_adapter,
)
from agent_core.providers import AnthropicModel, OpenAIModel, to_anthropic, to_openai

ANTHROPIC_ID = re.compile(r"^[a-zA-Z0-9_-]+$")


def through_jsonl(transcript: list[Message]) -> list[Message]:
    """Store and reload, as transcript.jsonl would."""
    lines = [message_adapter.dump_json(m).decode() for m in transcript]
    return [message_adapter.validate_json(line) for line in lines]


async def test_anthropic_session_continues_on_openai(
    anthropic_api: FakeAnthropic, openai_api: FakeOpenAI
) -> None:
    claude = AnthropicModel(
        "claude-sonnet-4-6", api_key=ANTHROPIC_KEY, base_url=anthropic_api.base_url, settings=fast()
    )
    gpt = OpenAIModel("gpt-4o", api_key=OPENAI_KEY, base_url=openai_api.base_url, settings=fast())

    anthropic_api.reply(
        "Looking.",
        ToolUse("get_pods", {"ns": "checkout", "limit": 5}, id="toolu_01AbC"),
        ToolUse("restart", {"deploy": "checkout"}, id="toolu_01DeF"),
    )
    anthropic_api.reply("One pod is crash-looping; the restart was denied.")
    openai_api.reply("Still denied; ask @bob again?")

    transcript: list[Message] = [UserMessage(text="checkout is down")]
    transcript.append(
        record(await claude.complete(system=SYSTEM, messages=transcript, tools=TOOLS))
    )
    transcript += [
        ToolResultMessage(call_id="toolu_01AbC", name="get_pods", content="checkout-1 CrashLoop"),
        ToolResultMessage(
            call_id="toolu_01DeF", name="restart", content="denied by @bob", status="denied"
        ),
    ]
    transcript.append(
        record(await claude.complete(system=SYSTEM, messages=transcript, tools=TOOLS))
    )
    transcript.append(UserMessage(text="and now?"))

    reply = await gpt.complete(system=SYSTEM, messages=through_jsonl(transcript), tools=TOOLS)
    assert reply.text == "Still denied; ask @bob again?"

    sent = openai_api.requests[0].body["messages"]
    assert [m["role"] for m in sent] == [
        "system",
        "user",
        "assistant",
        "tool",
        "tool",
        "assistant",
        "user",
    ]
    calls = sent[2]["tool_calls"]
    assert [c["id"] for c in calls] == ["toolu_01AbC", "toolu_01DeF"]
    assert json.loads(calls[0]["function"]["arguments"]) == {"ns": "checkout", "limit": 5}
    assert [m["tool_call_id"] for m in sent[3:5]] == ["toolu_01AbC", "toolu_01DeF"]
    assert sent[4]["content"] == "[status: denied] denied by @bob"
    assert sent[5] == {
        "role": "assistant",
        "content": "One pod is crash-looping; the restart was denied.",
    }


async def test_openai_session_continues_on_anthropic(
    anthropic_api: FakeAnthropic, openai_api: FakeOpenAI
) -> None:
    gpt = OpenAIModel("gpt-4o", api_key=OPENAI_KEY, base_url=openai_api.base_url, settings=fast())
    claude = AnthropicModel(
        "claude-sonnet-4-6", api_key=ANTHROPIC_KEY, base_url=anthropic_api.base_url, settings=fast()
    )
    odd_id = "chatcmpl-tool-9f:0"  # the kind of id some compatible servers emit
    openai_api.reply(
        tool_calls=[
            Call("get_pods", '{"ns": "checkout"}', id="call_Q1w2E3r4T5y6U7i8O9p0"),
            Call("restart", '{"deploy": checkout}', id=odd_id),  # malformed JSON
        ]
    )
    anthropic_api.reply("Here is what I found.")

    transcript: list[Message] = [UserMessage(text="checkout is down")]
    stored = record(await gpt.complete(system=SYSTEM, messages=transcript, tools=TOOLS))
    assert stored.tool_calls[1].arguments is None
    transcript += [
        stored,
        ToolResultMessage(
            call_id="call_Q1w2E3r4T5y6U7i8O9p0", name="get_pods", content="checkout-1 OOMKilled"
        ),
        ToolResultMessage(
            call_id=odd_id,
            name="restart",
            content="could not parse the arguments: Expecting value",
            status="error",
        ),
    ]
    reply = await claude.complete(system=SYSTEM, messages=through_jsonl(transcript), tools=TOOLS)
    assert reply.text == "Here is what I found."

    body = anthropic_api.requests[0].body
    assistant, results = body["messages"][1], body["messages"][2]
    uses = [b for b in assistant["content"] if b["type"] == "tool_use"]
    assert [u["input"] for u in uses] == [{"ns": "checkout"}, {}]
    assert all(ANTHROPIC_ID.match(u["id"]) for u in uses)
    assert uses[0]["id"] == "call_Q1w2E3r4T5y6U7i8O9p0"
    assert [r["tool_use_id"] for r in results["content"]] == [u["id"] for u in uses]
    assert results["content"][1]["is_error"] is True
    assert "text" not in [b["type"] for b in assistant["content"]]  # OpenAI sent no text


async def test_replies_feed_the_engine_parser(openai_api: FakeOpenAI) -> None:
    """RawToolCalls from the adapter go through agent_core.parsing as the engine does it,
    including a legacy function_call without an id and broken arguments."""
    parsing = pytest.importorskip("agent_core.parsing")
    openai_api.reply(function_call=Call("get_pods", "{'ns': 'checkout',}"))
    gpt = OpenAIModel("gpt-4o", api_key=OPENAI_KEY, base_url=openai_api.base_url, settings=fast())
    reply = await gpt.complete(system="", messages=[UserMessage(text="pods?")], tools=TOOLS)
    calls = tuple(parsing.to_tool_call(raw, index=i) for i, raw in enumerate(reply.tool_calls))
    assert calls[0].id  # derived deterministically from an empty id
    assert calls == tuple(parsing.to_tool_call(r, index=i) for i, r in enumerate(reply.tool_calls))
    stored = AssistantMessage(text=reply.text, tool_calls=calls, stop_reason=reply.stop_reason)
    transcript: list[Message] = [UserMessage(text="pods?"), stored]
    assert to_anthropic(transcript)[1]["role"] == "assistant"
    assert to_openai("", transcript)[-1]["role"] == "tool"  # synthesized missing result
