"""A slow stream that keeps bringing the reply is not a stalled one: an OpenAI-compatible
reasoning server (vLLM, DeepSeek, llama.cpp, OpenRouter) streams its thinking as
``delta.reasoning_content`` / ``delta.reasoning`` for minutes before the first word."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from engine_support import RecordingSink
from provider_samples import SYSTEM
from providers_testkit import OPENAI_KEY, SleepRecorder, fast

from agent_core.messages import UserMessage
from agent_core.providers import OpenAIModel

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
