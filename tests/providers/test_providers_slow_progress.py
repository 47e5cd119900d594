"""A slow stream that keeps bringing the reply is not a stalled one: an OpenAI-compatible
reasoning server (vLLM, DeepSeek, llama.cpp, OpenRouter) streams its thinking as
``delta.reasoning_content`` / ``delta.reasoning`` for minutes before the first word, and
Claude its ``thinking_delta`` pieces. Pieces with nothing in them are no news."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from engine_support import RecordingSink
from provider_samples import SYSTEM
from providers_testkit import ANTHROPIC_KEY, OPENAI_KEY, SleepRecorder, fast

from agent_core.messages import UserMessage
from agent_core.providers import AnthropicModel, OpenAIModel, ProviderTimeoutError

ASK = [UserMessage(text="restart api please", user="U0ALICE", ts="1700000000.000100")]


def _chunk(delta: dict[str, object], finish: str | None = None) -> bytes:
    data = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip
    return f"data: {json.dumps(data)}\n\n".encode()


@pytest.fixture
async def thinking_server() -> AsyncIterator[str]:
    async def thinking(request: web.Request) -> web.StreamResponse:
        # 1.2 s of thinking tokens (past the 0.5 s bound), then the answer.
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        await response.write(_chunk({"role": "assistant", "content": ""}))
        for _ in range(60):
            await asyncio.sleep(0.02)
            await response.write(_chunk({"reasoning_content": "hmm, "}))
        await response.write(_chunk({"content": "Not now."}))
        await response.write(_chunk({}, finish="stop"))
        await response.write(b"data: [DONE]\n\n")
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", thinking)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/v1"
    finally:
        await runner.cleanup()


async def test_a_model_thinking_longer_than_the_timeout_is_not_stalled(
    thinking_server: str, sleeps: SleepRecorder
) -> None:
    model = OpenAIModel(
        "deepseek-reasoner",
        api_key=OPENAI_KEY,
        base_url=thinking_server,
        settings=fast(attempts=1, timeout_s=0.5),
        sleep=sleeps,
    )
    try:
        reply = await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())
    finally:
        await model.aclose()
    assert reply.text == "Not now."


def _event(data: dict[str, Any]) -> bytes:
    return f"event: {data['type']}\ndata: {json.dumps(data)}\n\n".encode()


def _delta(piece: dict[str, Any], index: int = 0) -> bytes:
    return _event({"type": "content_block_delta", "index": index, "delta": piece})


async def _messages(request: web.Request) -> web.StreamResponse:
    """Opens a thinking block, then for 3 s sends what its model says: "thinking" pieces
    (slow, not stalled), or empty text and JSON pieces (nothing at all)."""
    stalled = request.match_info["kind"] == "empty"
    response = web.StreamResponse(headers={"content-type": "text/event-stream"})
    await response.prepare(request)
    message: dict[str, Any] = {"id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": [],
               "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 1}}  # fmt: skip
    await response.write(_event({"type": "message_start", "message": message}))
    block = {"type": "thinking", "thinking": ""} if not stalled else {"type": "text", "text": ""}
    await response.write(
        _event({"type": "content_block_start", "index": 0, "content_block": block})
    )
    for n in range(150 if stalled else 60):
        await asyncio.sleep(0.02)
        if stalled:
            empty = {"type": "text_delta", "text": ""} if n % 2 else {"type": "input_json_delta", "partial_json": ""}  # fmt: skip
            await response.write(_delta(empty))
        else:
            await response.write(_delta({"type": "thinking_delta", "thinking": "hmm, "}))
    await response.write(_event({"type": "content_block_stop", "index": 0}))
    await response.write(_event({"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}))  # fmt: skip
    await response.write(_delta({"type": "text_delta", "text": "Not now."}, index=1))
    await response.write(_event({"type": "content_block_stop", "index": 1}))
    end = {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": 9}}  # fmt: skip
    await response.write(_event(end))
    await response.write(_event({"type": "message_stop"}))
    return response


@pytest.mark.parametrize("kind", ["thinking", "empty"])
async def test_anthropic_thinking_is_slow_and_empty_pieces_are_stalled(
    sleeps: SleepRecorder, kind: str
) -> None:
    """Empty ``text_delta`` / ``input_json_delta`` pieces bring no more than pings do, so a
    server that sends only those is ended at the bound (0.5 s here), not after it is done."""
    app = web.Application()
    app.router.add_post("/{kind}/v1/messages", _messages)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    model = AnthropicModel(
        "claude-sonnet-4-6",
        api_key=ANTHROPIC_KEY,
        base_url=f"http://127.0.0.1:{runner.addresses[0][1]}/{kind}",
        settings=fast(attempts=1, timeout_s=0.5),
        sleep=sleeps,
    )
    try:
        started = time.monotonic()
        if kind == "empty":
            with pytest.raises(ProviderTimeoutError):
                await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())
            assert time.monotonic() - started < 2.5
        else:
            reply = await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())
            assert reply.text == "Not now."
    finally:
        await model.aclose()
        await runner.cleanup()


@pytest.fixture
async def trickling() -> AsyncIterator[str]:
    """A server that answers a byte every 50 ms, for ever: of its head (``/head/…``), or
    of a JSON body it says is a megabyte long (``/body/…``)."""
    answering: set[asyncio.Task[Any]] = set()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        answering.add(task)
        request = await reader.readuntil(b"\r\n\r\n")
        head = b" /head/" in request.split(b"\r\n")[0]
        writer.write(b"HTTP/1.1 200 OK\r\n")
        if not head:
            writer.write(b"content-type: application/json\r\ncontent-length: 1000000\r\n\r\n")
        while True:
            await asyncio.sleep(0.05)
            writer.write(b"x" if head else b" ")
            await writer.drain()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        for task in answering:
            task.cancel()
        await asyncio.gather(*answering, return_exceptions=True)
        server.close()


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
@pytest.mark.parametrize(("call", "part"), [("stream", "head"), ("complete", "head"), ("complete", "body")])  # fmt: skip
async def test_an_answer_trickling_in_a_byte_at_a_time_ends_at_the_bound(
    trickling: str, sleeps: SleepRecorder, provider: str, call: str, part: str
) -> None:
    """The SDKs' timeout bounds each read, so every byte starts it again: a server (or a
    proxy) that sends its answer a byte at a time held the turn for ever, where
    ``timeout_s`` bounds the whole wait for a reply (for a streamed one, for its start)."""
    settings = fast(attempts=1, timeout_s=0.5)
    model: AnthropicModel | OpenAIModel
    if provider == "anthropic":
        url = f"{trickling}/{part}"
        model = AnthropicModel("claude-sonnet-4-6", api_key=ANTHROPIC_KEY, base_url=url, settings=settings, sleep=sleeps)  # fmt: skip
    else:
        url = f"{trickling}/{part}/v1"
        model = OpenAIModel("gpt-4o", api_key=OPENAI_KEY, base_url=url, settings=settings, sleep=sleeps)  # fmt: skip
    if call == "stream":
        answer = model.stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())
    else:
        answer = model.complete(system=SYSTEM, messages=ASK, tools=[])
    try:
        async with asyncio.timeout(5):  # a hang fails the test, not the suite
            with pytest.raises(ProviderTimeoutError, match=r"did not answer within 0\.5 s"):
                await answer
    finally:
        await model.aclose()
