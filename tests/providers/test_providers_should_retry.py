"""The server's ``x-should-retry`` decides whether a failed call is tried again.

signoff retries calls itself (the SDKs' retries are off), and its retry loop went by the
status alone: a 529 that said ``x-should-retry: false`` was tried 4 times, a 409 whose
server knew better was not tried again when it said ``true``. The SDKs obey the header,
up front and, when a response's headers came before its body failed, for that failure
too; so does signoff now, within its own limits (attempts, the longest wait it honours).
From a stream's 200 only ``false`` counts: neither SDK retries on a 200's ``true`` (only
Anthropic's reads the 200 at all, to leave a drop after it untried when it says ``false``).
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
from agent_core.providers import (
    AnthropicModel,
    OpenAIModel,
    ProviderError,
    ProviderOverloadedError,
    ProviderQuotaError,
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


def _sse(events: list[tuple[str | None, object]]) -> Scripted:
    """A 200 saying ``x-should-retry: true``, whose stream sends ``events`` and ends."""
    lines = [(f"event: {name}\n" if name else "") + f"data: {json.dumps(data)}\n\n" for name, data in events]  # fmt: skip
    return Scripted(text="".join(lines), content_type="text/event-stream", headers=YES)


def _openai_error_midway(kind: str) -> Scripted:
    head = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o"}
    text = {"index": 0, "delta": {"role": "assistant", "content": "The web"}, "finish_reason": None}  # fmt: skip
    error = {"message": "You exceeded your current quota.", "type": kind, "param": None, "code": kind}  # fmt: skip
    return _sse([(None, {**head, "choices": [text]}), (None, {"error": error})])


def _anthropic_error_midway(kind: str) -> Scripted:
    message: dict[str, object] = {"id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": [],
               "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 1}}  # fmt: skip
    block = {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}  # fmt: skip
    text = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "The api"}}  # fmt: skip
    error = {"type": "error", "error": {"type": kind, "message": "Your credit balance is too low."}}  # fmt: skip
    return _sse([("message_start", {"type": "message_start", "message": message}),
                 ("content_block_start", block), ("content_block_delta", text), ("error", error)])  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "told"),
    [("insufficient_quota", ProviderQuotaError), ("invalid_request_error", ProviderRequestError)],
)
async def test_an_openai_error_midway_its_status_refuses_is_not_retried_on_the_200s_true(
    openai_api: FakeOpenAI, sleeps: SleepRecorder, kind: str, told: type[ProviderError]
) -> None:
    """The 200's ``true`` was applied to an error sent midway, which has no headers of its
    own: a quota or a refused request was asked for again, and paid, 4 times over."""
    openai_api.enqueue(_openai_error_midway(kind))
    openai_api.reply("never asked for")
    with pytest.raises(told) as caught:
        await gpt(openai_api, sleeps).stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())  # fmt: skip
    assert len(openai_api.requests) == 1 and sleeps.calls == []
    assert caught.value.attempts == 1 and caught.value.request_id  # the 200's id, still


@pytest.mark.parametrize(
    ("kind", "told"),
    [("billing_error", ProviderQuotaError), ("invalid_request_error", ProviderRequestError)],
)
async def test_an_anthropic_error_event_its_type_refuses_is_not_retried_on_the_200s_true(
    anthropic_api: FakeAnthropic, sleeps: SleepRecorder, kind: str, told: type[ProviderError]
) -> None:
    anthropic_api.enqueue(_anthropic_error_midway(kind))
    anthropic_api.reply("never asked for")
    with pytest.raises(told) as caught:
        await claude(anthropic_api, sleeps).stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())  # fmt: skip
    assert len(anthropic_api.requests) == 1 and sleeps.calls == []
    assert caught.value.attempts == 1


async def test_a_stream_whose_200_says_to_retry_is_retried_by_its_status_when_it_breaks(
    anthropic_api: FakeAnthropic, openai_api: FakeOpenAI, sleeps: SleepRecorder
) -> None:
    """A drop after a 200 saying ``true`` is retried as any drop is: the header neither
    adds nor takes away a retry there."""
    anthropic_api.reply("The api service is", break_after=6, break_with="drop", headers=YES)
    anthropic_api.reply("api is healthy")
    reply = await claude(anthropic_api, sleeps).stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())  # fmt: skip
    assert reply.text == "api is healthy" and len(anthropic_api.requests) == 2
