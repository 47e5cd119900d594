"""A stream whose body ended cleanly before the API's last event is told as that, not as
a dropped connection.

Such a reply is cut short (retried, never taken whole), and if it stays so the thread and
the trace read "… broke off midway (connection dropped)": the words of a connection lost
in the middle of a body, which send an operator to the network and its proxies. The body
ended as a body ends (its last chunk, or OpenAI's ``[DONE]``): a server or a gateway ended
the reply early. It now says so, naming the event that never came.
"""

from __future__ import annotations

import json

import pytest
from engine_support import RecordingSink
from fake_anthropic import FakeAnthropic
from fake_openai import FakeOpenAI
from fake_provider_http import Scripted
from provider_samples import SYSTEM
from providers_testkit import ANTHROPIC_KEY, OPENAI_KEY, SleepRecorder, fast

from agent_core.messages import UserMessage
from agent_core.providers import AnthropicModel, OpenAIModel, ProviderReplyCutError

ASK = [UserMessage(text="how is api?", user="U0ALICE", ts="1700000000.000100")]


async def test_an_anthropic_stream_ended_before_message_stop_says_so(
    anthropic_api: FakeAnthropic, sleeps: SleepRecorder
) -> None:
    for _ in range(2):
        anthropic_api.reply("api is healthy", break_after=4, break_with="eof")
    model = AnthropicModel("claude-sonnet-4-6", api_key=ANTHROPIC_KEY, base_url=anthropic_api.base_url, settings=fast(attempts=2), sleep=sleeps)  # fmt: skip
    with pytest.raises(ProviderReplyCutError) as raised:
        await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())
    said = str(raised.value)
    assert "broke off midway (the stream ended before message_stop) after 2 attempts" in said
    assert "connection" not in said, said


@pytest.mark.parametrize("done", [True, False])
async def test_an_openai_stream_ended_before_its_finish_reason_says_so(
    openai_api: FakeOpenAI, sleeps: SleepRecorder, done: bool
) -> None:
    """``[DONE]`` with no ``finish_reason`` before it (an empty ``choices`` all along) is
    the server saying the stream is over: no connection was lost."""
    head = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o"}
    body = f"data: {json.dumps({**head, 'choices': []})}\n\n" + ("data: [DONE]\n\n" if done else "")
    for _ in range(2):
        openai_api.enqueue(Scripted(text=body, content_type="text/event-stream"))
    model = OpenAIModel("gpt-4o", api_key=OPENAI_KEY, base_url=openai_api.base_url, settings=fast(attempts=2), sleep=sleeps)  # fmt: skip
    with pytest.raises(ProviderReplyCutError) as raised:
        await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())
    said = str(raised.value)
    assert "(the stream ended before its finish_reason) after 2 attempts" in said, said
    assert "connection" not in said, said
