"""Chat Completion streams as OpenAI-compatible servers send them, where they differ from
OpenAI's own, through the real SDK."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from engine_support import RecordingSink
from fake_openai import FakeOpenAI
from fake_provider_http import Scripted
from provider_samples import SYSTEM, TOOLS
from providers_testkit import OPENAI_KEY, SleepRecorder, fast

from agent_core.messages import UserMessage
from agent_core.parsing import parse_arguments
from agent_core.providers import OpenAICompatibleModel

ASK = [UserMessage(text="pods of checkout?", user="U0ALICE", ts="1700000000.000100")]


@pytest.fixture
async def model(
    openai_api: FakeOpenAI, sleeps: SleepRecorder
) -> AsyncIterator[OpenAICompatibleModel]:
    made = OpenAICompatibleModel(
        "qwen3", api_key=OPENAI_KEY, base_url=openai_api.base_url, settings=fast(), sleep=sleeps
    )
    yield made
    await made.aclose()


def chunks(*deltas: dict[str, object], finish: str = "tool_calls") -> Scripted:
    def chunk(delta: dict[str, object] | None, reason: str | None) -> str:
        body = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "qwen3",
                "choices": [{"index": 0, "delta": delta, "finish_reason": reason}]}  # fmt: skip
        return f"data: {json.dumps(body)}\n\n"

    body = "".join(chunk(d, None) for d in deltas) + chunk({}, finish) + "data: [DONE]\n\n"
    return Scripted(text=body, content_type="text/event-stream")


async def test_arguments_streamed_as_an_object_are_the_call_not_a_garbled_stream(
    openai_api: FakeOpenAI, model: OpenAICompatibleModel, sleeps: SleepRecorder
) -> None:
    """MiniMax (and llama-server, without streaming) send a call's ``arguments`` as an
    object, which the reply without streaming reads: streamed, the piece was refused as a
    malformed chunk, so every reply with a call was asked for again, paid each time, and
    the turn failed as "a reply signoff cannot read"."""
    call = {"index": 0, "id": "call_1", "type": "function",
            "function": {"name": "get_pods", "arguments": {"ns": "checkout"}}}  # fmt: skip
    openai_api.enqueue(chunks({"role": "assistant", "tool_calls": [call]}))
    reply = await model.stream(system=SYSTEM, messages=ASK, tools=TOOLS, sink=RecordingSink())
    [got] = reply.tool_calls
    assert (got.id, got.name) == ("call_1", "get_pods")
    assert parse_arguments(got.arguments).arguments == {"ns": "checkout"}
    assert len(openai_api.requests) == 1 and sleeps.calls == []


@pytest.mark.parametrize("choices", [{"choices": None}, {}], ids=["null", "absent"])
async def test_a_chunk_with_no_choices_list_is_read_as_none(
    openai_api: FakeOpenAI,
    model: OpenAICompatibleModel,
    sleeps: SleepRecorder,
    choices: dict[str, None],
) -> None:
    """Some compatible servers send their usage chunk (or a control chunk) with ``"choices":
    null`` or none at all, where OpenAI sends ``[]`` (pydantic-ai#5165, Portkey#1627): the
    whole reply was refused as a malformed chunk, asked for again and again (paid each
    time), and the turn failed as "a reply signoff cannot read"."""
    usage = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "qwen3",
             "usage": {"prompt_tokens": 30, "completion_tokens": 4, "total_tokens": 34}, **choices}  # fmt: skip
    body = chunks({"role": "assistant", "content": "api is up"}, finish="stop").text
    assert body is not None
    done = "data: [DONE]\n\n"
    stream = body.removesuffix(done) + f"data: {json.dumps(usage)}\n\n" + done
    openai_api.enqueue(Scripted(text=stream, content_type="text/event-stream"))
    reply = await model.stream(system=SYSTEM, messages=ASK, tools=TOOLS, sink=RecordingSink())
    assert (reply.text, reply.usage.input_tokens, reply.usage.output_tokens) == ("api is up", 30, 4)
    assert len(openai_api.requests) == 1 and sleeps.calls == []


async def test_content_streamed_as_a_list_of_parts_is_its_text(
    openai_api: FakeOpenAI, model: OpenAICompatibleModel, sleeps: SleepRecorder
) -> None:
    """Mistral's Magistral streams ``delta.content`` as a list of parts (its thinking, then
    the text), as its reply without streaming holds them and is read: streamed, every
    reply was refused as a malformed chunk and asked for again until the turn failed."""
    thinking = [{"type": "thinking", "thinking": [{"type": "text", "text": "a greeting"}]}]
    openai_api.enqueue(
        chunks(
            {"role": "assistant", "content": thinking},
            {"content": [{"type": "text", "text": "api "}]},
            {"content": [{"type": "text", "text": "is up"}]},
            finish="stop",
        )
    )
    sink = RecordingSink()
    reply = await model.stream(system=SYSTEM, messages=ASK, tools=TOOLS, sink=sink)
    assert reply.text == "api is up" and sink.events == ["api ", "is up"]
    assert len(openai_api.requests) == 1 and sleeps.calls == []


@pytest.mark.parametrize(
    "extra",
    [
        ("retry: 3000\n\n", ""),  # the reconnection delay, which SSE servers may send first
        ("", "event: ping\n\n"),  # a keep-alive named, with no data
        ("id: 1\n", "\n"),  # a blank line more, after an id (which the SDK never forgets)
        ("", "data:\n\n"),  # a data line with nothing on it
    ],
    ids=["retry", "event-ping", "blank-after-id", "empty-data"],
)
async def test_an_event_with_no_data_is_passed_over(
    openai_api: FakeOpenAI,
    model: OpenAICompatibleModel,
    sleeps: SleepRecorder,
    extra: tuple[str, str],
) -> None:
    """The SSE standard dispatches no event whose data is empty, nor does the Anthropic SDK,
    but the OpenAI SDK parsed every one as JSON: "a reply signoff cannot read (an event that
    is not JSON: JSONDecodeError)", on every attempt, so no call to such a server worked."""
    first, between = extra
    body = chunks({"role": "assistant", "content": "api "}, {"content": "is up"}, finish="stop")
    assert body.text is not None
    head, sep, rest = body.text.partition("\n\n")
    stream = first + head + sep + between + rest
    openai_api.enqueue(Scripted(text=stream, content_type="text/event-stream"))
    reply = await model.stream(system=SYSTEM, messages=ASK, tools=TOOLS, sink=RecordingSink())
    assert reply.text == "api is up"
    assert len(openai_api.requests) == 1 and sleeps.calls == []
