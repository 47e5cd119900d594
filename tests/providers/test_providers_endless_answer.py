"""A model server that streams text for ever, ignoring ``max_tokens``, is cut off.

Nothing bounded one answer's size but the thread's stop button and the session's time
budget: each piece is progress, so the stall guard never fired, and the reply grew in
memory, in the live view and then in the thread. Now an answer past
``ANSWER_CHARS_PER_TOKEN`` characters a token of the output limit (far more than any
answer within the limit) is cut there: what arrived is kept, it is told as cut off,
and the call is not tried again (the same server would do it again).
"""

from __future__ import annotations

import asyncio

import pytest
from engine_support import EngineFactory, RecordingSink, chain, message, replies
from fake_anthropic import FakeAnthropic
from fake_openai import FakeOpenAI
from provider_samples import SYSTEM
from providers_testkit import ANTHROPIC_KEY, OPENAI_KEY, SleepRecorder, fast

from agent_core.messages import UserMessage
from agent_core.providers import ANSWER_CHARS_PER_TOKEN, AnthropicModel, OpenAIModel
from agent_core.surface import RecordingSurface
from sessions import Home, SessionState

ASK = [UserMessage(text="how is api?", user="U0ALICE", ts="1700000000.000100")]
LIMIT = 16  # output tokens: the cap is a few hundred characters, reached at once
CAP = LIMIT * ANSWER_CHARS_PER_TOKEN
START = "The api service is "


def claude(api: FakeAnthropic, sleeps: SleepRecorder) -> AnthropicModel:
    settings = fast(max_tokens=LIMIT, timeout_s=2.0)
    return AnthropicModel("claude-sonnet-4-6", api_key=ANTHROPIC_KEY, base_url=api.base_url, settings=settings, sleep=sleeps)  # fmt: skip


def gpt(api: FakeOpenAI, sleeps: SleepRecorder) -> OpenAIModel:
    settings = fast(max_tokens=LIMIT, timeout_s=2.0)
    return OpenAIModel("gpt-4o", api_key=OPENAI_KEY, base_url=api.base_url, settings=settings, sleep=sleeps)  # fmt: skip


def endless(anthropic_api: FakeAnthropic, openai_api: FakeOpenAI) -> None:
    # Anthropic: message_start, ping, content_block_start, 4 text pieces; OpenAI: the
    # role chunk, 4 text pieces. Then "and on " for ever.
    anthropic_api.reply(START, break_after=7, break_with="endless")
    openai_api.reply(START, break_after=5, break_with="endless")


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
async def test_an_endless_answer_is_cut_at_the_cap_and_kept(
    anthropic_api: FakeAnthropic, openai_api: FakeOpenAI, sleeps: SleepRecorder, provider: str
) -> None:
    endless(anthropic_api, openai_api)
    model = claude(anthropic_api, sleeps) if provider == "anthropic" else gpt(openai_api, sleeps)
    sink = RecordingSink()
    async with asyncio.timeout(10):  # a failure here hangs no worker
        reply = await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=sink)
    assert reply.stop_reason == "overlong"
    assert reply.text.startswith(START + "and on ") and CAP < len(reply.text) <= CAP + 7
    assert sink.text_now == reply.text  # the live view showed what is kept, no more
    api = anthropic_api if provider == "anthropic" else openai_api
    assert len(api.requests) == 1 and sleeps.calls == []  # not tried again
    # The API's final count never came: the budgets count what arrived, at least.
    counted = reply.usage.output_tokens or (reply.usage_estimate or reply.usage).output_tokens
    assert counted >= CAP // 4


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
async def test_the_thread_is_told_the_answer_was_cut_off(
    anthropic_api: FakeAnthropic,
    openai_api: FakeOpenAI,
    sleeps: SleepRecorder,
    make_engine: EngineFactory,
    home: Home,
    surface: RecordingSurface,
    provider: str,
) -> None:
    endless(anthropic_api, openai_api)
    model = claude(anthropic_api, sleeps) if provider == "anthropic" else gpt(openai_api, sleeps)
    engine = await make_engine(model=model)
    await engine.ingest(message("how is api?", ts="1700000000.000100"))
    async with asyncio.timeout(20):
        await engine.idle()
    answer, note = replies(surface)
    assert answer.startswith(START) and len(answer) > CAP
    assert note == (
        "(The model's answer went on far past its output limit, so signoff cut it off; "
        "the answer above may be incomplete.)"
    )
    assert chain(home)[-1].state == SessionState.COMPLETED


async def test_a_cut_answer_is_not_told_as_a_provider_reporting_no_usage(
    openai_api: FakeOpenAI, sleeps: SleepRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    """Cut, an OpenAI answer never reaches its usage chunk: that is signoff's doing, not
    a gateway dropping usage. It was warned as "reports no token usage" (once a model, so a
    gateway that really dropped it later went unsaid) and counted as usage-missing."""
    openai_api.reply(START, break_after=5, break_with="endless")
    model = gpt(openai_api, sleeps)
    async with asyncio.timeout(10):
        reply = await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())
    assert reply.stop_reason == "overlong"
    assert "reports no token usage" not in caplog.text
    assert not reply.usage_missing  # signoff's own count, at least what arrived
    assert reply.usage.input_tokens > 0 and reply.usage.output_tokens >= CAP // 4
    # A gateway that really drops usage afterwards is still told.
    openai_api.reply("All green.", usage=False)
    whole = await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())
    assert whole.usage_missing and "gpt-4o reports no token usage" in caplog.text
