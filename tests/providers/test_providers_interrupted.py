"""A Chat Completion the server says it interrupted is not taken as a whole answer.

Besides OpenAI's finish reasons, compatible servers document their own for a reply they
broke off: DeepSeek's ``insufficient_system_resource`` ("the request is interrupted due
to insufficient resource of the inference system"), Mistral's ``error`` (the generation
was interrupted by an error), vLLM's ``abort``. Unknown to signoff, each was read as
``end_turn``: the part that arrived was posted as the answer and, with calls, ``tool_use``,
so a call list cut short ran (one of the three restarts asked for). Such a reply is now an
answer that broke off, like a stream cut short: tried again, and told as such if it stays
so. Mistral's ``model_length`` is its context window filling: told as that.
"""

from __future__ import annotations

import pytest
from engine_support import RecordingSink
from fake_openai import Call, FakeOpenAI
from provider_samples import SYSTEM
from providers_testkit import OPENAI_KEY, SleepRecorder, fast

from agent_core.messages import UserMessage
from agent_core.providers import OpenAICompatibleModel, ProviderReplyCutError

ASK = [UserMessage(text="restart api, web and db", user="U0ALICE", ts="1700000000.000100")]
FIRST = [Call("restart_service", {"service": "api"})]


def _model(api: FakeOpenAI, sleeps: SleepRecorder) -> OpenAICompatibleModel:
    return OpenAICompatibleModel("deepseek-chat", api_key=OPENAI_KEY, base_url=api.base_url, settings=fast(attempts=2), sleep=sleeps)  # fmt: skip


@pytest.mark.parametrize("reason", ["insufficient_system_resource", "error", "abort"])
@pytest.mark.parametrize("streamed", [True, False])
async def test_an_interrupted_reply_is_tried_again_not_taken_whole(
    openai_api: FakeOpenAI, sleeps: SleepRecorder, reason: str, streamed: bool
) -> None:
    openai_api.reply("Restarting all three.", tool_calls=FIRST, finish_reason=reason)
    openai_api.reply("Restarting all three.", tool_calls=[*FIRST, Call("restart_service", {"service": "web"})])  # fmt: skip
    model = _model(openai_api, sleeps)
    if streamed:
        reply = await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())
    else:
        reply = await model.complete(system=SYSTEM, messages=ASK, tools=[])
    assert len(openai_api.requests) == 2 and len(reply.tool_calls) == 2


async def test_one_that_stays_interrupted_is_told_so(
    openai_api: FakeOpenAI, sleeps: SleepRecorder
) -> None:
    for _ in range(2):
        openai_api.reply("Restarting", tool_calls=FIRST, finish_reason="insufficient_system_resource")  # fmt: skip
    with pytest.raises(ProviderReplyCutError) as raised:
        await _model(openai_api, sleeps).stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())  # fmt: skip
    said = str(raised.value)
    assert (
        "broke off midway (the server stopped it: insufficient_system_resource) after 2 attempts"
        in said
    ), said


async def test_mistrals_model_length_is_the_context_window(
    openai_api: FakeOpenAI, sleeps: SleepRecorder
) -> None:
    openai_api.reply("The thread so far", finish_reason="model_length")
    reply = await _model(openai_api, sleeps).stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())  # fmt: skip
    assert reply.stop_reason == "context_window"
