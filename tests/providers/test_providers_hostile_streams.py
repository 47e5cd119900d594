"""Broken and hostile streams, through the real SDKs: a body that ends cleanly before the
API's last event is a reply cut short (retried like a dropped stream, never taken as the
whole reply), a 200 that is not a stream at all is no reply, and a stream that never
ends does not hold the turn forever."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from engine_support import RecordingSink
from fake_anthropic import FakeAnthropic, ToolUse
from fake_openai import Call, FakeOpenAI
from fake_provider_http import Scripted
from provider_samples import SYSTEM
from providers_testkit import ANTHROPIC_KEY, OPENAI_KEY, SleepRecorder, fast

from agent_core.messages import UserMessage
from agent_core.providers import (
    AnthropicModel,
    OpenAIModel,
    ProviderConnectionError,
    ProviderError,
    ProviderResponseError,
    ProviderTimeoutError,
)

ASK = [UserMessage(text="restart api please", user="U0ALICE", ts="1700000000.000100")]
ANSWER = "Do not restart api now: the database under it is migrating and would be corrupted."
OPENED: list[AnthropicModel | OpenAIModel] = []


@pytest.fixture(autouse=True)
async def _close_models() -> AsyncIterator[None]:
    yield
    for model in OPENED:
        await model.aclose()
    OPENED.clear()


def claude(base_url: str, sleeps: SleepRecorder, attempts: int = 4) -> AnthropicModel:
    model = AnthropicModel(
        "claude-sonnet-4-6",
        api_key=ANTHROPIC_KEY,
        base_url=base_url,
        settings=fast(attempts=attempts, timeout_s=0.5),
        sleep=sleeps,
    )
    OPENED.append(model)
    return model


def gpt(base_url: str, sleeps: SleepRecorder, attempts: int = 4) -> OpenAIModel:
    model = OpenAIModel(
        "gpt-4o",
        api_key=OPENAI_KEY,
        base_url=base_url,
        settings=fast(attempts=attempts, timeout_s=0.5),
        sleep=sleeps,
    )
    OPENED.append(model)
    return model


async def test_anthropic_stream_ending_before_message_stop_is_retried_not_taken_whole(
    anthropic_api: FakeAnthropic, sleeps: SleepRecorder
) -> None:
    anthropic_api.reply(ANSWER, break_after=6, break_with="eof")
    anthropic_api.reply(ANSWER)
    sink = RecordingSink()
    reply = await claude(anthropic_api.base_url, sleeps).stream(
        system=SYSTEM, messages=ASK, tools=[], sink=sink
    )
    assert reply.text == ANSWER
    assert sink.text_now == ANSWER and "<restart>" in sink.events
    assert len(anthropic_api.requests) == 2


async def test_anthropic_tool_input_cut_short_never_becomes_a_call(
    anthropic_api: FakeAnthropic, sleeps: SleepRecorder
) -> None:
    # message_start, ping, content_block_start, then half of the input: the body ends.
    anthropic_api.reply(ToolUse("scale_service", {"service": "api", "replicas": 30}), break_after=4, break_with="eof")  # fmt: skip
    with pytest.raises(ProviderConnectionError, match="the stream ended before message_stop"):
        await claude(anthropic_api.base_url, sleeps, attempts=1).stream(
            system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink()
        )


async def test_openai_stream_ending_before_finish_reason_is_retried_not_taken_whole(
    openai_api: FakeOpenAI, sleeps: SleepRecorder
) -> None:
    openai_api.reply(ANSWER, break_after=4, break_with="eof")
    openai_api.reply(ANSWER)
    sink = RecordingSink()
    reply = await gpt(openai_api.base_url, sleeps).stream(
        system=SYSTEM, messages=ASK, tools=[], sink=sink
    )
    assert reply.text == ANSWER and sink.text_now == ANSWER
    assert len(openai_api.requests) == 2


async def test_openai_arguments_cut_short_never_become_a_call(
    openai_api: FakeOpenAI, sleeps: SleepRecorder
) -> None:
    # role chunk, the call's id and name, half its arguments: the body ends there. The
    # engine's parser would "repair" '{"service": "api", "replicas": 3' into a call.
    openai_api.reply(tool_calls=[Call("scale_service", '{"service": "api", "replicas": 30}')], break_after=3, break_with="eof")  # fmt: skip
    with pytest.raises(ProviderConnectionError, match="the stream ended before its finish_reason"):
        await gpt(openai_api.base_url, sleeps, attempts=1).stream(
            system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink()
        )


@pytest.mark.parametrize("body", ["<html><body>Sign in to the Wi-Fi</body></html>", ""])
async def test_a_200_that_is_no_stream_is_no_reply(
    anthropic_api: FakeAnthropic, openai_api: FakeOpenAI, sleeps: SleepRecorder, body: str
) -> None:
    anthropic_api.raw(200, body)
    openai_api.raw(200, body)
    for model in (claude(anthropic_api.base_url, sleeps), gpt(openai_api.base_url, sleeps)):
        with pytest.raises(ProviderResponseError, match="not an API reply"):
            await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())
    assert len(anthropic_api.requests) == len(openai_api.requests) == 1


async def test_events_out_of_order_are_not_called_unreachable(
    anthropic_api: FakeAnthropic, sleeps: SleepRecorder
) -> None:
    """The server was reached and answered; what it sent is unreadable."""
    delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "x"}}  # fmt: skip
    events = [("content_block_delta", delta), ("message_stop", {"type": "message_stop"})]
    body = "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events)
    anthropic_api.enqueue(Scripted(text=body, content_type="text/event-stream"))
    with pytest.raises(ProviderError) as raised:
        await claude(anthropic_api.base_url, sleeps, attempts=1).stream(
            system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink()
        )
    assert "Cannot reach" not in str(raised.value)


async def _pinging(request: web.Request) -> web.StreamResponse:
    """A stream that starts a message, then sends nothing but pings (for a few seconds,
    so the test ends even where nothing cuts it off)."""
    response = web.StreamResponse(headers={"content-type": "text/event-stream"})
    await response.prepare(request)
    start = {"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": [], "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 1}}}  # fmt: skip
    await response.write(f"event: message_start\ndata: {json.dumps(start)}\n\n".encode())
    for _ in range(150):
        await asyncio.sleep(0.02)
        await response.write(b'event: ping\ndata: {"type": "ping"}\n\n')
    return response


async def _dripping(request: web.Request) -> web.StreamResponse:
    """A Chat Completions stream of chunks that carry nothing, for a few seconds."""
    response = web.StreamResponse(headers={"content-type": "text/event-stream"})
    await response.prepare(request)
    empty = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
             "choices": [{"index": 0, "delta": {}, "finish_reason": None}]}  # fmt: skip
    for _ in range(150):
        await asyncio.sleep(0.02)
        await response.write(f"data: {json.dumps(empty)}\n\n".encode())
    return response


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
async def test_a_stream_that_never_brings_news_does_not_hold_the_turn_forever(
    sleeps: SleepRecorder, provider: str
) -> None:
    """Each ping (or empty chunk) resets the SDK's read timeout, so only a bound on how
    long a stream may go without news ends it (0.5 s here; the server goes on for 3 s)."""
    app = web.Application()
    app.router.add_post("/v1/messages", _pinging)
    app.router.add_post("/v1/chat/completions", _dripping)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        model: AnthropicModel | OpenAIModel = (
            claude(url, sleeps, attempts=1)
            if provider == "anthropic"
            else gpt(f"{url}/v1", sleeps, attempts=1)
        )
        started = time.monotonic()
        with pytest.raises(ProviderTimeoutError):
            await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())
        assert time.monotonic() - started < 2.5
    finally:
        await runner.cleanup()


Events = list[tuple[str | None, object]]


def _events(events: Events) -> Scripted:
    body = "".join(
        (f"event: {name}\n" if name else "")
        + f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n"
        for name, data in events
    )
    return Scripted(text=body, content_type="text/event-stream")


_MSG: dict[str, object] = {"id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": [], "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 1}}  # fmt: skip
_OPEN = {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
_END: Events = [("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}}),
        ("message_stop", {"type": "message_stop"})]  # fmt: skip
GARBLED_ANTHROPIC: dict[str, Events] = {
    "a delta for a block never started": [
        ("message_start", {"type": "message_start", "message": _MSG}),
        ("content_block_start", _OPEN),
        ("content_block_delta", {"type": "content_block_delta", "index": 4, "delta": {"type": "text_delta", "text": "x"}}),
        *_END,
    ],
    "a block that is null": [
        ("message_start", {"type": "message_start", "message": _MSG}),
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": None}),
        *_END,
    ],
    "an event that is not JSON": [
        ("message_start", {"type": "message_start", "message": _MSG}),
        ("content_block_start", _OPEN),
        ("content_block_delta", '{"type": "content_block_delta", "index": 0, "delta": {"ty'),
        *_END,
    ],
}  # fmt: skip


def _chunk(choices: object) -> dict[str, object]:
    return {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": choices}  # fmt: skip


_FINISH = _chunk([{"index": 0, "delta": {"content": "ok"}, "finish_reason": "stop"}])
GARBLED_OPENAI: dict[str, Events] = {
    "a delta that is null": [(None, _chunk([{"index": 0, "delta": None, "finish_reason": None}])), (None, _FINISH)],
    # (null choices are read: a few compatible servers send them)
    "a choice that is a number": [(None, _chunk([7])), (None, _FINISH)],
    "a chunk that is not JSON": [(None, '{"id": "c1", "choi'), (None, _FINISH)],
    # (arguments sent as an object are read: a few compatible servers send them so)
    "arguments that are a number": [
        (None, _chunk([{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
            "function": {"name": "service_status", "arguments": 7}}]}, "finish_reason": None}])),
        (None, _FINISH),
    ],
}  # fmt: skip


@pytest.mark.parametrize(
    ("provider", "case"),
    [("anthropic", case) for case in GARBLED_ANTHROPIC] + [("openai", case) for case in GARBLED_OPENAI],
)  # fmt: skip
async def test_a_garbled_stream_is_said_to_be_unreadable_not_unreachable(
    anthropic_api: FakeAnthropic,
    openai_api: FakeOpenAI,
    sleeps: SleepRecorder,
    provider: str,
    case: str,
) -> None:
    """The server was reached and answered; what it sent cannot be read. Told as that
    (not as a network failure, nor as a bare TypeError), after the retries a broken
    stream gets."""
    model: AnthropicModel | OpenAIModel
    api: FakeAnthropic | FakeOpenAI
    if provider == "anthropic":
        for _ in range(2):
            anthropic_api.enqueue(_events(GARBLED_ANTHROPIC[case]))
        model, api = claude(anthropic_api.base_url, sleeps, attempts=2), anthropic_api
    else:
        for _ in range(2):
            openai_api.enqueue(_events(GARBLED_OPENAI[case]))
        model, api = gpt(openai_api.base_url, sleeps, attempts=2), openai_api
    with pytest.raises(ProviderResponseError) as raised:
        await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())
    assert "cannot read" in str(raised.value) and "after 2 attempts" in str(raised.value)
    assert len(api.requests) == 2


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
async def test_an_event_stream_closed_before_its_first_event_is_cut_short_not_a_wrong_url(
    anthropic_api: FakeAnthropic, openai_api: FakeOpenAI, sleeps: SleepRecorder, provider: str
) -> None:
    """The server answered 200 ``text/event-stream`` (it is the API) and the body ended
    before a whole event: a stream cut short, retried; not "check the base URL"."""
    cut = Scripted(text='data: {"type": "message_st', content_type="text/event-stream")
    model: AnthropicModel | OpenAIModel
    if provider == "anthropic":
        anthropic_api.enqueue(cut).reply(ANSWER)
        model = claude(anthropic_api.base_url, sleeps)
    else:
        openai_api.enqueue(cut).reply(ANSWER)
        model = gpt(openai_api.base_url, sleeps)
    reply = await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())
    assert reply.text == ANSWER and len(sleeps.calls) == 1


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
async def test_a_whole_stream_whose_connection_stays_open_is_the_reply(
    anthropic_api: FakeAnthropic, openai_api: FakeOpenAI, sleeps: SleepRecorder, provider: str
) -> None:
    """The API's last event came (``message_stop``; ``[DONE]``) and a gateway kept the
    connection open after it. Anthropic's was read on for more until the stall timeout:
    the whole reply voided and asked for again, four times, then told as "did not answer
    within 120 s" (at the defaults, eight minutes on)."""
    model: AnthropicModel | OpenAIModel
    api: FakeAnthropic | FakeOpenAI
    if provider == "anthropic":
        api, model = anthropic_api, claude(anthropic_api.base_url, sleeps)
        api.enqueue(Scripted(body=anthropic_api.message(ANSWER), hold_open=True))
    else:
        api, model = openai_api, gpt(openai_api.base_url, sleeps)
        api.enqueue(Scripted(body=openai_api.completion(ANSWER), hold_open=True))
    sink = RecordingSink()
    reply = await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=sink)
    assert reply.text == ANSWER and sink.text_now == ANSWER
    assert "<restart>" not in sink.events and len(api.requests) == 1


def _all_but_done(api: FakeOpenAI, body: object) -> int:
    """How many of ``body``'s streamed events come before ``[DONE]`` (with usage asked)."""
    events = api.stream_events(api.fill(body, {}), {"stream_options": {"include_usage": True}})
    assert events[-1] == (None, "[DONE]")
    return len(events) - 1


async def test_an_openai_stream_held_open_after_its_usage_chunk_without_done_is_the_reply(
    openai_api: FakeOpenAI, sleeps: SleepRecorder
) -> None:
    """The finish_reason and then the usage chunk (no choices) came, the last of the reply
    by the API's reference, and a gateway held the connection without ``[DONE]``: the reply
    was read on until the stall timeout, voided and asked for again, four times."""
    body = openai_api.completion(ANSWER)
    held = Scripted(body=body, break_after=_all_but_done(openai_api, body), break_with="hold")
    openai_api.enqueue(held)
    model, sink = gpt(openai_api.base_url, sleeps), RecordingSink()
    reply = await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=sink)
    assert reply.text == ANSWER and sink.text_now == ANSWER and reply.usage_estimate is None
    assert "<restart>" not in sink.events and len(openai_api.requests) == 1


async def test_an_openai_stream_held_open_after_its_finish_reason_is_the_reply_unmetered(
    openai_api: FakeOpenAI, sleeps: SleepRecorder
) -> None:
    """A gateway that drops the usage chunk (and ``[DONE]``) and holds the connection: what
    came is the whole reply, taken once the stall timeout passes with nothing more, its
    usage estimated as for any server that reports none; not voided and asked for again."""
    body = {**openai_api.completion(ANSWER), "usage": None}
    held = Scripted(body=body, break_after=_all_but_done(openai_api, body), break_with="hold")
    openai_api.enqueue(held)
    model, sink = gpt(openai_api.base_url, sleeps), RecordingSink()
    reply = await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=sink)
    assert reply.text == ANSWER and sink.text_now == ANSWER and reply.usage_estimate is not None
    assert "<restart>" not in sink.events and len(openai_api.requests) == 1
