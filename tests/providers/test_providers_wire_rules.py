"""The fakes enforce each API's conversation rules, and our conversion always obeys them
(checked over many random transcripts, including broken ones)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from fake_anthropic import FakeAnthropic, check_messages_request
from fake_openai import FakeOpenAI, check_chat_request
from provider_samples import TOOLS
from providers_testkit import ANTHROPIC_KEY, OPENAI_KEY, fast

from agent_core.messages import (
    AssistantMessage,
    EventMessage,
    Message,
    ToolCall,
    ToolResultMessage,
    ToolStatus,
    UserMessage,
)
from agent_core.providers import (
    AnthropicModel,
    OpenAIModel,
    ProviderRequestError,
    to_anthropic,
    to_openai,
    tools_to_anthropic,
    tools_to_openai,
)


def anthropic_body(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {"model": "m", "max_tokens": 10, "messages": messages}


def openai_body(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {"model": "m", "messages": messages}


@pytest.mark.parametrize(
    ("messages", "fragment"),
    [
        ([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], "alternate"),
        ([{"role": "assistant", "content": "a"}], "first message"),
        ([{"role": "user", "content": []}], "non-empty content"),
        ([{"role": "user", "content": [{"type": "text", "text": " "}]}], "non-whitespace"),
        (
            [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "x"}]}],
            "unexpected `tool_use_id`",
        ),
        (
            [
                {"role": "user", "content": "go"},
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": "a.b", "name": "t", "input": {}}],
                },
            ],
            "pattern",
        ),
        (
            [
                {"role": "user", "content": "go"},
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": "a", "name": "t", "input": {}}],
                },
                {"role": "user", "content": "no result"},
            ],
            "without `tool_result`",
        ),
        (
            [
                {"role": "user", "content": "go"},
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": "a", "name": "t", "input": {}}],
                },
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "first"},
                        {"type": "tool_result", "tool_use_id": "a", "content": "r"},
                    ],
                },
            ],
            "before any text",
        ),
    ],
)
def test_anthropic_rules(messages: list[dict[str, Any]], fragment: str) -> None:
    problem = check_messages_request(anthropic_body(messages))
    assert problem is not None and fragment in problem


@pytest.mark.parametrize(
    ("messages", "fragment"),
    [
        ([{"role": "tool", "tool_call_id": "x", "content": "r"}], "must be a response"),
        (
            [
                {"role": "user", "content": "go"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"id": "c", "type": "function", "function": {"name": "t", "arguments": ""}}
                    ],
                },
                {"role": "user", "content": "next"},
            ],
            "did not have response messages: c",
        ),
        (
            [
                {"role": "user", "content": "go"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "c" * 41,
                            "type": "function",
                            "function": {"name": "t", "arguments": "{}"},
                        }
                    ],
                },
            ],
            "string too long",
        ),
        ([{"role": "user", "content": ""}], "non-empty"),
    ],
)
def test_openai_rules(messages: list[dict[str, Any]], fragment: str) -> None:
    problem = check_chat_request(openai_body(messages))
    assert problem is not None and fragment in problem


async def test_strict_anthropic_fake_answers_400_through_the_sdk() -> None:
    async with FakeAnthropic() as api:
        api.reply("unused")
        model = AnthropicModel(
            "claude-sonnet-4-6", api_key=ANTHROPIC_KEY, base_url=api.base_url, settings=fast()
        )
        bad = anthropic_body([{"role": "assistant", "content": "x"}])

        async def attempt() -> object:
            return await (await model._client()).messages.create(**bad)

        with pytest.raises(ProviderRequestError, match="400 invalid_request_error"):
            await model._call(attempt)
        assert api.pending == 1 and len(api.rejections) == 1
        await model.aclose()


async def test_strict_openai_fake_answers_400_through_the_sdk() -> None:
    async with FakeOpenAI() as api:
        api.reply("unused")
        model = OpenAIModel("gpt-4o", api_key=OPENAI_KEY, base_url=api.base_url, settings=fast())
        bad: dict[str, Any] = {
            "model": "gpt-4o",
            "messages": [{"role": "tool", "tool_call_id": "x", "content": ""}],
        }

        async def attempt() -> object:
            return await (await model._client()).chat.completions.create(**bad)

        with pytest.raises(ProviderRequestError, match="must be a response"):
            await model._call(attempt)
        assert api.pending == 1 and len(api.rejections) == 1
        await model.aclose()


_IDS = ["toolu_01A", "call_B", "call:0", "id with space", "", "x" * 60, "ü", "call_B"]
_NAMES = ["get_pods", "restart", "ops.get", "", "bad name!"]
_TEXTS = ["hello", "", "   ", "multi\nline", "ünï"]
_STATUSES: list[ToolStatus] = [
    "ok",
    "error",
    "denied",
    "expired",
    "refused",
    "pending",
    "uncertain",
]


def random_transcript(rng: random.Random) -> list[Message]:
    out: list[Message] = []
    made: list[str] = []
    for _ in range(rng.randint(0, 12)):
        kind = rng.random()
        if kind < 0.25:
            out.append(UserMessage(text=rng.choice(_TEXTS)))
        elif kind < 0.35:
            out.append(EventMessage(text=rng.choice(_TEXTS)))
        elif kind < 0.65:
            calls = []
            for _ in range(rng.randint(0, 3)):
                cid = rng.choice(_IDS)
                made.append(cid)
                if rng.random() < 0.3:
                    calls.append(
                        ToolCall(
                            id=cid,
                            name=rng.choice(_NAMES),
                            raw_arguments=rng.choice(["{bad", None]),
                            parse_error="bad",
                        )
                    )
                else:
                    calls.append(ToolCall(id=cid, name=rng.choice(_NAMES), arguments={"k": 1}))
            out.append(AssistantMessage(text=rng.choice(_TEXTS), tool_calls=tuple(calls)))
        else:
            cid = rng.choice(made) if made and rng.random() < 0.8 else rng.choice(_IDS)
            out.append(
                ToolResultMessage(
                    call_id=cid,
                    name=rng.choice(_NAMES),
                    content=rng.choice(_TEXTS),
                    status=rng.choice(_STATUSES),
                )
            )
    return out


def test_random_transcripts_always_convert_to_valid_requests() -> None:
    rng = random.Random(20240611)
    checked = 0
    for _ in range(400):
        transcript = random_transcript(rng)
        anthropic_messages = to_anthropic(transcript)
        openai_messages = to_openai("sys", transcript)
        if anthropic_messages:
            body = anthropic_body(list(anthropic_messages))  # type: ignore[arg-type]
            body["tools"] = tools_to_anthropic(TOOLS)
            assert check_messages_request(body) is None, transcript
            checked += 1
        body = openai_body(list(openai_messages))  # type: ignore[arg-type]
        body["tools"] = tools_to_openai(TOOLS)
        assert check_chat_request(body) is None, transcript
    assert checked > 300
