"""A long thread sends the model its latest part that fits ``history_chars``, never the
whole transcript: through the SDKs to the fakes, whose strict checks are the APIs' rules."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest
from fake_anthropic import FakeAnthropic, check_messages_request
from fake_openai import FakeOpenAI, check_chat_request
from provider_samples import SYSTEM, TOOLS
from providers_testkit import ANTHROPIC_KEY, OPENAI_KEY, fast
from test_providers_wire_rules import anthropic_body, openai_body, random_transcript

from agent_core.messages import (
    AssistantMessage,
    EventMessage,
    Message,
    ToolCall,
    ToolResultMessage,
    UserMessage,
)
from agent_core.providers import (
    AnthropicModel,
    OpenAIModel,
    to_anthropic,
    to_openai,
    tools_to_anthropic,
    tools_to_openai,
)
from agent_core.providers.settings import ModelSettings
from agent_core.providers.window import recent, size

ANSWER = "The api service is healthy: 3 of 3 replicas ready, p99 latency 180 ms. " * 4


def thread(turns: int) -> list[Message]:
    """A thread of ``turns`` questions, each answered after one tool call."""
    out: list[Message] = []
    for n in range(turns):
        out.append(UserMessage(text=f"question {n}: how is api?", user="U0ALICE", ts=f"{n}.0"))
        call = ToolCall(id=f"c{n}", name="lookup", arguments={"service": "api"})
        out.append(AssistantMessage(tool_calls=(call,), stop_reason="tool_use"))
        out.append(ToolResultMessage(call_id=f"c{n}", name="lookup", content="api: healthy"))
        out.append(AssistantMessage(text=ANSWER))
    return out


def settings(history_chars: int) -> ModelSettings:
    return dataclasses.replace(fast(), history_chars=history_chars)


def texts(body: Any) -> str:
    return repr(body["messages"])


async def test_anthropic_is_sent_the_latest_turns_that_fit_after_a_note() -> None:
    transcript = [*thread(50), UserMessage(text="and now?")]
    async with FakeAnthropic() as api:
        api.reply("ok")
        model = AnthropicModel(
            "claude-sonnet-4-6",
            api_key=ANTHROPIC_KEY,
            base_url=api.base_url,
            settings=settings(3_000),
        )
        await model.complete(system=SYSTEM, messages=transcript, tools=TOOLS)
        await model.aclose()
    [req] = api.requests  # strict: the fake refused nothing
    sent = texts(req.body)
    assert "and now?" in sent and "question 49" in sent and "question 0:" not in sent
    first = req.body["messages"][0]
    assert first["role"] == "user" and "earlier messages of this thread are left out" in repr(first)
    assert first["content"][1]["text"].startswith("question ")  # a person's message, whole
    assert len(sent) < 2 * 3_000  # JSON framing aside, about the budget


async def test_openai_is_sent_the_same_window() -> None:
    transcript = [*thread(50), UserMessage(text="and now?")]
    async with FakeOpenAI() as api:
        api.reply("ok")
        model = OpenAIModel(
            "gpt-4o", api_key=OPENAI_KEY, base_url=api.base_url, settings=settings(3_000)
        )
        await model.complete(system=SYSTEM, messages=transcript, tools=TOOLS)
        await model.aclose()
    [req] = api.requests
    messages = req.body["messages"]
    assert messages[0] == {"role": "system", "content": SYSTEM}
    assert "left out" in repr(messages[1]) and "question 0:" not in repr(messages)
    assert "and now?" in repr(messages[-1])


def test_a_thread_that_fits_is_sent_whole_and_the_default_fits_a_long_one() -> None:
    transcript = thread(20)
    assert recent(transcript, budget_chars=10**9) is transcript
    default = ModelSettings().history_chars
    cut = recent(thread(2_000), budget_chars=default)
    assert 0 < sum(size(m) for m in cut) <= default


def test_the_current_request_is_sent_even_alone_over_the_limit() -> None:
    big = UserMessage(text="x" * 10_000)
    tail: list[Message] = [big, AssistantMessage(text="working on it")]
    cut = recent([*thread(3), *tail], budget_chars=1_000)
    assert isinstance(cut[0], EventMessage) and list(cut[1:]) == tail
    # Nothing to cut at but the first message: all of it goes.
    only: list[Message] = [big, AssistantMessage(text="y" * 5_000)]
    assert recent(only, budget_chars=1_000) is only


def test_a_result_whose_call_was_left_out_is_still_read() -> None:
    # A decision told after later messages: its result follows a person's message.
    call = ToolCall(id="c1", name="restart", arguments={"service": "api"})
    transcript: list[Message] = [
        UserMessage(text="restart api " + "please " * 200),
        AssistantMessage(tool_calls=(call,), stop_reason="tool_use"),
        UserMessage(text="status?"),
        ToolResultMessage(call_id="c1", name="restart", content="restarted api"),
    ]
    cut = recent(transcript, budget_chars=200)
    assert [type(m) for m in cut] == [EventMessage, UserMessage, ToolResultMessage]
    body = anthropic_body(list(to_anthropic(cut)))  # type: ignore[arg-type]
    assert check_messages_request(body) is None and "restarted api" in repr(body)


@pytest.mark.parametrize("budget", [0, 50, 200, 1_000])
def test_random_transcripts_cut_anywhere_still_convert_to_valid_requests(budget: int) -> None:
    rng = random.Random(budget)
    for _ in range(300):
        cut = recent(random_transcript(rng), budget_chars=budget)
        anthropic_messages = to_anthropic(cut)
        if anthropic_messages:
            body = anthropic_body(list(anthropic_messages))  # type: ignore[arg-type]
            body["tools"] = tools_to_anthropic(TOOLS)
            assert check_messages_request(body) is None, cut
        body = openai_body(list(to_openai("sys", cut)))  # type: ignore[arg-type]
        body["tools"] = tools_to_openai(TOOLS)
        assert check_chat_request(body) is None, cut


def test_the_start_of_what_is_sent_moves_in_steps_not_every_turn() -> None:
    # Prompt caches match by prefix: a start that moved every turn would never be reused.
    budget, starts = 12_000, list[str]()
    for turns in range(100, 160):
        cut = recent([*thread(turns), UserMessage(text="and now?")], budget_chars=budget)
        sent = sum(size(m) for m in cut[1:])
        assert budget * 3 // 4 - 400 <= sent <= budget, (turns, sent)
        first = cut[1]
        assert isinstance(first, UserMessage)
        starts.append(first.ts)
    assert len(set(starts)) < 60 // 5, starts  # a new start every ~9 turns, not 60
