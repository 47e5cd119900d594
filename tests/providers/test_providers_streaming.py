"""Streaming through the real SDKs against fakes that stream like the APIs: the text
arrives in pieces, the reply is the one ``complete`` gives for the same answer, and a
stream that breaks midway is retried with the streamed text voided."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import TypeVar

import pytest
from engine_support import RecordingSink
from fake_anthropic import FakeAnthropic, ToolUse
from fake_openai import Call, FakeOpenAI
from fake_provider_http import Scripted
from provider_samples import SYSTEM, TOOLS
from providers_testkit import ANTHROPIC_KEY, OPENAI_KEY, SleepRecorder, fast

from agent_core.messages import UserMessage
from agent_core.model import ModelReply, RawToolCall, StreamingModel, complete_streaming
from agent_core.providers import (
    AnthropicModel,
    OpenAICompatibleModel,
    OpenAIModel,
    ProviderConnectionError,
    ProviderQuotaError,
    ProviderRequestError,
)
from agent_core.scripted import ScriptedModel

M = TypeVar("M", AnthropicModel, OpenAIModel)
ASK = [UserMessage(text="restart api please", user="U0ALICE", ts="1700000000.000100")]
ANSWER = "I will restart **api** now; it takes a minute."


@pytest.fixture(autouse=True)
async def _close_models() -> AsyncIterator[None]:
    yield
    for model in OPENED:
        await model.aclose()
    OPENED.clear()


OPENED: list[AnthropicModel | OpenAIModel] = []


def opened(model: M) -> M:
    OPENED.append(model)
    return model


def anthropic(api: FakeAnthropic, sleeps: SleepRecorder) -> AnthropicModel:
    return AnthropicModel(
        "claude-sonnet-4-6",
        api_key=ANTHROPIC_KEY,
        base_url=api.base_url,
        settings=fast(),
        sleep=sleeps,
    )


def openai(api: FakeOpenAI, sleeps: SleepRecorder) -> OpenAIModel:
    return opened(
        OpenAIModel(
            "gpt-4o", api_key=OPENAI_KEY, base_url=api.base_url, settings=fast(), sleep=sleeps
        )
    )


async def test_anthropic_streams_text_and_returns_the_same_reply(
    anthropic_api: FakeAnthropic, sleeps: SleepRecorder
) -> None:
    script = (ANSWER, ToolUse("restart_service", {"service": "api"}, id="toolu_01R"))
    anthropic_api.reply(*script, input_tokens=31, output_tokens=12)
    anthropic_api.reply(*script, input_tokens=31, output_tokens=12)
    model = anthropic(anthropic_api, sleeps)
    assert isinstance(model, StreamingModel)
    sink = RecordingSink()

    streamed = await model.stream(system=SYSTEM, messages=ASK, tools=TOOLS, sink=sink)
    completed = await model.complete(system=SYSTEM, messages=ASK, tools=TOOLS)

    assert streamed == completed
    assert streamed.tool_calls == (
        RawToolCall(id="toolu_01R", name="restart_service", arguments={"service": "api"}),
    )
    assert (streamed.stop_reason, streamed.usage.output_tokens) == ("tool_use", 12)
    assert len(sink.events) > 3 and "".join(sink.events) == ANSWER  # in pieces, in order
    body = anthropic_api.requests[0].body
    assert body["stream"] is True
    assert {k: v for k, v in body.items() if k != "stream"} == anthropic_api.requests[1].body


async def test_anthropic_error_event_midway_is_retried_and_the_text_voided(
    anthropic_api: FakeAnthropic, sleeps: SleepRecorder
) -> None:
    anthropic_api.reply("Half an answer that will", break_after=5)  # then overloaded_error
    anthropic_api.reply(ANSWER)
    sink = RecordingSink()

    reply = await anthropic(anthropic_api, sleeps).stream(
        system=SYSTEM, messages=ASK, tools=[], sink=sink
    )

    assert reply.text == ANSWER
    assert sink.events.count("<restart>") == 1
    assert sink.events[0] == "Half " and sink.text_now == ANSWER
    assert len(anthropic_api.requests) == 2 and len(sleeps.calls) == 1


async def test_anthropic_dropped_stream_is_retried(
    anthropic_api: FakeAnthropic, sleeps: SleepRecorder
) -> None:
    anthropic_api.reply("Gone midway", break_after=4, break_with="drop")
    anthropic_api.reply(ANSWER)
    sink = RecordingSink()
    reply = await anthropic(anthropic_api, sleeps).stream(
        system=SYSTEM, messages=ASK, tools=[], sink=sink
    )
    assert reply.text == ANSWER and sink.text_now == ANSWER
    assert len(anthropic_api.requests) == 2


async def test_anthropic_dropped_stream_is_said_to_have_dropped(
    anthropic_api: FakeAnthropic, sleeps: SleepRecorder
) -> None:
    """The SDK runs over aiohttp, whose word for a connection closed midway is "payload
    is not completed": still "connection dropped", not a failure to connect at all."""
    for _ in range(4):
        anthropic_api.reply("Gone midway", break_after=4, break_with="drop")
    with pytest.raises(ProviderConnectionError) as raised:
        await anthropic(anthropic_api, sleeps).stream(
            system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink()
        )
    assert "(connection dropped)" in raised.value.message


async def test_openai_streams_text_and_calls_and_counts_usage(
    openai_api: FakeOpenAI, sleeps: SleepRecorder
) -> None:
    calls = [
        Call("restart_service", {"service": "api"}, id="call_r1"),
        Call("status", "{bad", id="call_s1"),
    ]
    for _ in range(2):
        openai_api.reply(ANSWER, tool_calls=calls, prompt_tokens=40, completion_tokens=9)
    model = openai(openai_api, sleeps)
    sink = RecordingSink()

    streamed = await model.stream(system=SYSTEM, messages=ASK, tools=TOOLS, sink=sink)
    completed = await model.complete(system=SYSTEM, messages=ASK, tools=TOOLS)

    assert streamed == completed
    assert [c.arguments for c in streamed.tool_calls] == ['{"service": "api"}', "{bad"]
    assert (streamed.usage.input_tokens, streamed.usage.output_tokens) == (40, 9)
    assert streamed.stop_reason == "tool_use"
    assert len(sink.events) > 3 and "".join(sink.events) == ANSWER
    body = openai_api.requests[0].body
    assert (body["stream"], body["stream_options"]) == (True, {"include_usage": True})


async def test_openai_length_is_an_incomplete_reply_not_an_error(
    openai_api: FakeOpenAI, sleeps: SleepRecorder
) -> None:
    openai_api.reply("The list goes on and", finish_reason="length")
    reply = await openai(openai_api, sleeps).stream(
        system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink()
    )
    assert (reply.text, reply.stop_reason) == ("The list goes on and", "max_tokens")


async def test_openai_error_midway_is_retried(
    openai_api: FakeOpenAI, sleeps: SleepRecorder
) -> None:
    openai_api.reply("A start", break_after=2)  # then data: {"error": {...server_error}}
    openai_api.reply(ANSWER)
    sink = RecordingSink()
    reply = await openai(openai_api, sleeps).stream(
        system=SYSTEM, messages=ASK, tools=[], sink=sink
    )
    assert reply.text == ANSWER and sink.text_now == ANSWER
    assert sink.events.count("<restart>") == 1


async def test_a_compatible_server_streams_too(
    openai_api: FakeOpenAI, sleeps: SleepRecorder
) -> None:
    openai_api.reply(ANSWER, usage=False)  # some servers send no usage at all
    model = opened(
        OpenAICompatibleModel(
            "llama3", api_key="x", base_url=openai_api.base_url, settings=fast(), sleep=sleeps
        )
    )
    sink = RecordingSink()
    reply = await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=sink)
    assert (reply.text, reply.usage.total) == (ANSWER, 0)  # recorded as sent: none
    sent = len(json.dumps(openai_api.requests[0].body, ensure_ascii=False))
    assert reply.usage_estimate is not None  # what the budgets count instead
    assert reply.usage_estimate.input_tokens == -(-sent // 4)
    assert reply.usage_estimate.output_tokens == -(-len(ANSWER) // 4)
    assert "max_tokens" in openai_api.requests[0].body


async def test_a_model_that_cannot_stream_hands_its_text_over_at_once() -> None:
    model = ScriptedModel([ModelReply(text=ANSWER)])
    assert not isinstance(model, StreamingModel)
    sink = RecordingSink()
    reply = await complete_streaming(model, system="", messages=ASK, tools=[], sink=sink)
    assert reply.text == ANSWER and sink.events == [ANSWER]


@pytest.mark.parametrize("index", [0, None], ids=["all index 0", "no index"])
async def test_parallel_calls_a_compatible_server_numbers_alike_stay_apart(
    openai_api: FakeOpenAI, sleeps: SleepRecorder, index: int | None
) -> None:
    """Ollama streams every call of a turn as ``index: 0`` (older builds send no index),
    each with its own id: joined by index, two calls became one whose arguments are two
    objects back to back, which no tool runs, and the second call was never seen."""

    def piece(call_id: str, service: str, part: int) -> dict[str, object]:
        function = {"name": "service_status", "arguments": '{"service": "'}
        if part:
            function = {"arguments": service + '"}'}
        call: dict[str, object] = {"function": function}
        if index is not None:
            call["index"] = index
        if not part:
            call.update(id=call_id, type="function")
        return {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
                "choices": [{"index": 0, "delta": {"tool_calls": [call]}, "finish_reason": None}]}  # fmt: skip

    chunks = [piece("call_a", "api", 0), piece("call_a", "api", 1),
              piece("call_b", "db", 0), piece("call_b", "db", 1)]  # fmt: skip
    finish = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
              "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}  # fmt: skip
    body = "".join(f"data: {json.dumps(c)}\n\n" for c in [*chunks, finish]) + "data: [DONE]\n\n"
    openai_api.enqueue(Scripted(text=body, content_type="text/event-stream"))
    reply = await openai(openai_api, sleeps).stream(
        system=SYSTEM, messages=ASK, tools=TOOLS, sink=RecordingSink()
    )
    assert reply.tool_calls == (
        RawToolCall(id="call_a", name="service_status", arguments='{"service": "api"}'),
        RawToolCall(id="call_b", name="service_status", arguments='{"service": "db"}'),
    )


async def test_a_finish_chunk_whose_delta_is_null_ends_the_reply(
    openai_api: FakeOpenAI, sleeps: SleepRecorder
) -> None:
    """Azure (and some compatible servers) send ``"delta": null`` beside the finish_reason
    where OpenAI sends ``{}``: a whole reply was refused as a malformed chunk, asked for
    again (paid each time) and the session failed as unreadable."""

    def chunk(delta: dict[str, str] | None, finish: str | None = None) -> str:
        data = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip
        return f"data: {json.dumps(data)}\n\n"

    body = (
        chunk({"role": "assistant", "content": ANSWER}) + chunk(None, "stop") + "data: [DONE]\n\n"
    )
    openai_api.enqueue(Scripted(text=body, content_type="text/event-stream"))
    reply = await openai(openai_api, sleeps).stream(
        system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink()
    )
    assert (reply.text, reply.stop_reason) == (ANSWER, "end_turn")
    assert len(openai_api.requests) == 1


@pytest.mark.parametrize("numbering", ["missing", "counting"])
async def test_a_stream_whose_choices_are_not_numbered_0_is_read(
    openai_api: FakeOpenAI, sleeps: SleepRecorder, numbering: str
) -> None:
    """signoff asks for one choice, and some compatible servers (old TGI, one-api) number
    it wrongly: no index, or one counting up with every chunk. Every piece was skipped as
    another choice's, and a whole answer was reported as a dropped connection."""

    def chunk(n: int, delta: dict[str, str], finish: str | None = None) -> str:
        choice: dict[str, object] = {"delta": delta, "finish_reason": finish}
        if numbering == "counting":
            choice["index"] = n
        data = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
                "choices": [choice]}  # fmt: skip
        return f"data: {json.dumps(data)}\n\n"

    body = (
        chunk(0, {"role": "assistant", "content": ANSWER[:5]})
        + chunk(1, {"content": ANSWER[5:]})
        + chunk(2, {}, "stop")
        + "data: [DONE]\n\n"
    )
    openai_api.enqueue(Scripted(text=body, content_type="text/event-stream"))
    reply = await openai(openai_api, sleeps).stream(
        system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink()
    )
    assert (reply.text, reply.stop_reason) == (ANSWER, "end_turn")
    assert len(openai_api.requests) == 1


_CHUNK = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "llama3",
          "choices": [{"index": 0, "delta": {"role": "assistant", "content": "The "}, "finish_reason": None}]}  # fmt: skip
MIDWAY_ERRORS = {
    # vLLM and llama.cpp put the HTTP status in "code": a request refused is refused again.
    "a 400 in the code": ({"object": "error", "message": "the request exceeds the available context size",
                           "type": "BadRequestError", "param": None, "code": 400},
                          ProviderRequestError, "rejected the request (400"),
    "a quota code": ({"message": "You exceeded your current quota.", "type": "insufficient_quota",
                      "param": None, "code": "insufficient_quota"},
                     ProviderQuotaError, "out of credit"),
}  # fmt: skip


@pytest.mark.parametrize("case", MIDWAY_ERRORS)
async def test_an_error_midway_that_will_not_pass_is_not_retried(
    openai_api: FakeOpenAI, sleeps: SleepRecorder, case: str
) -> None:
    """Each was taken for a server error (500): the same call made three times more (a
    local model's GPU, or a bill, for each), then told as "had a server error (500 400)"."""
    error, raised, said = MIDWAY_ERRORS[case]
    events = [_CHUNK, {"error": error}]
    body = "".join(f"data: {json.dumps(event)}\n\n" for event in events)
    for _ in range(4):
        openai_api.enqueue(Scripted(text=body, content_type="text/event-stream"))
    model = opened(
        OpenAICompatibleModel(
            "llama3", api_key="x", base_url=openai_api.base_url, settings=fast(), sleep=sleeps
        )
    )
    with pytest.raises(raised) as info:
        await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())
    assert said in str(info.value) and "after" not in str(info.value)
    assert len(openai_api.requests) == 1 and sleeps.calls == []
