"""A server that accepts the connection and closes it before answering is told the same
way through either SDK: "(connection dropped)".

Closed at once, the OpenAI SDK's write met a broken pipe, whose words ("[Errno 32] Broken
pipe") were none of those read as a drop, so OpenAI was told "(connection failed)", a
failure to connect at all, while Anthropic, its aiohttp transport meeting the same server,
was told "(connection dropped)". Both reached a socket that then went away.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from engine_support import RecordingSink
from provider_samples import SYSTEM
from providers_testkit import ANTHROPIC_KEY, OPENAI_KEY, SleepRecorder, fast

from agent_core.messages import UserMessage
from agent_core.providers import AnthropicModel, OpenAIModel, ProviderConnectionError

ASK = [UserMessage(text="how is api?", user="U0ALICE", ts="1700000000.000100")]


async def _closed_at_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.close()


@pytest.fixture
async def closing_port() -> AsyncIterator[int]:
    server = await asyncio.start_server(_closed_at_once, "127.0.0.1", 0)
    async with server:
        yield int(server.sockets[0].getsockname()[1])


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
async def test_a_connection_closed_before_any_answer_is_told_as_dropped(
    closing_port: int, sleeps: SleepRecorder, provider: str
) -> None:
    model: AnthropicModel | OpenAIModel
    if provider == "anthropic":
        model = AnthropicModel("claude-sonnet-4-6", api_key=ANTHROPIC_KEY, base_url=f"http://127.0.0.1:{closing_port}", settings=fast(attempts=2), sleep=sleeps)  # fmt: skip
    else:
        model = OpenAIModel("gpt-4o", api_key=OPENAI_KEY, base_url=f"http://127.0.0.1:{closing_port}/v1", settings=fast(attempts=2), sleep=sleeps)  # fmt: skip
    with pytest.raises(ProviderConnectionError) as raised:
        await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())
    assert "(connection dropped) after 2 attempts" in str(raised.value), str(raised.value)
