"""The server's ``x-should-retry`` decides whether a failed call is tried again.

signoff retries calls itself (the SDKs' retries are off), and its retry loop went by the
status alone: a 529 that said ``x-should-retry: false`` was tried 4 times, a 409 whose
server knew better was not tried again when it said ``true``. The SDKs obey the header,
up front and, when a response's headers came before its body failed, for that failure
too; so does signoff now, within its own limits (attempts, the longest wait it honours).
"""

from __future__ import annotations

import pytest
from engine_support import RecordingSink
from fake_anthropic import FakeAnthropic
from fake_openai import FakeOpenAI
from provider_samples import SYSTEM
from providers_testkit import ANTHROPIC_KEY, OPENAI_KEY, SleepRecorder, fast

from agent_core.messages import UserMessage
from agent_core.providers import (
    AnthropicModel,
    OpenAIModel,
    ProviderOverloadedError,
    ProviderReplyCutError,
    ProviderRequestError,
    ProviderServerError,
)

ASK = [UserMessage(text="how is api?", user="U0ALICE", ts="1700000000.000100")]
NO = {"x-should-retry": "false"}
YES = {"x-should-retry": "true"}


def claude(api: FakeAnthropic, sleeps: SleepRecorder, attempts: int = 4) -> AnthropicModel:
    settings = fast(attempts=attempts, timeout_s=2.0)
    return AnthropicModel("claude-sonnet-4-6", api_key=ANTHROPIC_KEY, base_url=api.base_url, settings=settings, sleep=sleeps)  # fmt: skip


def gpt(api: FakeOpenAI, sleeps: SleepRecorder, attempts: int = 4) -> OpenAIModel:
    settings = fast(attempts=attempts, timeout_s=2.0)
    return OpenAIModel("gpt-4o", api_key=OPENAI_KEY, base_url=api.base_url, settings=settings, sleep=sleeps)  # fmt: skip


async def test_anthropic_529_that_says_not_to_retry_is_told_at_once(
    anthropic_api: FakeAnthropic, sleeps: SleepRecorder
) -> None:
    anthropic_api.error(529, headers=NO)
    anthropic_api.reply("never asked for")
    with pytest.raises(ProviderOverloadedError) as caught:
        await claude(anthropic_api, sleeps).complete(system=SYSTEM, messages=ASK, tools=[])
    assert caught.value.attempts == 1 and "after 1 attempt" in str(caught.value)
    assert len(anthropic_api.requests) == 1 and sleeps.calls == []


async def test_openai_500_that_says_not_to_retry_stays_a_server_error(
    openai_api: FakeOpenAI, sleeps: SleepRecorder
) -> None:
    openai_api.error(500, headers=NO)
    openai_api.reply("never asked for")
    with pytest.raises(ProviderServerError) as caught:  # its status, not "rejected"
        await gpt(openai_api, sleeps).complete(system=SYSTEM, messages=ASK, tools=[])
    assert caught.value.attempts == 1 and len(openai_api.requests) == 1


async def test_a_refusal_that_says_to_retry_is_tried_again(
    anthropic_api: FakeAnthropic, openai_api: FakeOpenAI, sleeps: SleepRecorder
) -> None:
    anthropic_api.error(400, headers=YES)
    anthropic_api.reply("api is healthy")
    reply = await claude(anthropic_api, sleeps).complete(system=SYSTEM, messages=ASK, tools=[])
    assert reply.text == "api is healthy" and len(anthropic_api.requests) == 2
    openai_api.error(409, headers=YES)
    openai_api.reply("web is healthy")
    reply = await gpt(openai_api, sleeps).complete(system=SYSTEM, messages=ASK, tools=[])
    assert reply.text == "web is healthy" and len(openai_api.requests) == 2
    assert len(sleeps.calls) == 2  # a backoff before each retry, as for any other


async def test_a_retry_it_asks_for_stays_within_signoffs_limits(
    anthropic_api: FakeAnthropic, sleeps: SleepRecorder
) -> None:
    for _ in range(3):
        anthropic_api.error(400, headers=YES)
    with pytest.raises(ProviderRequestError) as caught:  # still what its status says
        await claude(anthropic_api, sleeps, attempts=3).complete(system=SYSTEM, messages=ASK, tools=[])  # fmt: skip
    assert caught.value.attempts == 3 and len(anthropic_api.requests) == 3
    anthropic_api.error(400, headers={**YES, "retry-after": "7200"})  # over the longest wait
    with pytest.raises(ProviderRequestError) as caught:
        await claude(anthropic_api, sleeps).complete(system=SYSTEM, messages=ASK, tools=[])
    assert caught.value.attempts == 1


async def test_a_stream_whose_200_says_not_to_retry_is_not_tried_again_when_it_breaks(
    anthropic_api: FakeAnthropic, openai_api: FakeOpenAI, sleeps: SleepRecorder
) -> None:
    anthropic_api.reply("The api service is", break_after=6, break_with="drop", headers=NO)
    anthropic_api.reply("never asked for")
    with pytest.raises(ProviderReplyCutError) as caught:
        await claude(anthropic_api, sleeps).stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())  # fmt: skip
    assert caught.value.attempts == 1 and len(anthropic_api.requests) == 1
    openai_api.reply("The web service is", break_after=4, break_with="error", headers=NO)
    openai_api.reply("never asked for")
    with pytest.raises(ProviderServerError) as served:
        await gpt(openai_api, sleeps).stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())  # fmt: skip
    assert served.value.attempts == 1 and len(openai_api.requests) == 1
