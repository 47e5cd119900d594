"""Retries, backoff, timeouts and the errors that end a call."""

from __future__ import annotations

import asyncio
import email.utils
import random
import time

import pytest
from fake_anthropic import FakeAnthropic
from fake_openai import FakeOpenAI
from loopback_ports import free_port
from providers_testkit import ANTHROPIC_KEY, OPENAI_KEY, SleepRecorder, fast

from agent_core.messages import UserMessage
from agent_core.providers import (
    AnthropicModel,
    OpenAIModel,
    ProviderAuthError,
    ProviderConnectionError,
    ProviderError,
    ProviderModelNotFoundError,
    ProviderOverloadedError,
    ProviderQuotaError,
    ProviderRateLimitError,
    ProviderRequestError,
    ProviderResponseError,
    ProviderServerError,
    ProviderTimeoutError,
    RetryPolicy,
)
from agent_core.providers.failure import Failure
from agent_core.providers.retry import parse_retry_after

ASK = [UserMessage(text="status?")]


def claude(
    api_url: str, sleeps: SleepRecorder, attempts: int = 4, timeout_s: float = 5.0
) -> AnthropicModel:
    settings = fast(attempts=attempts, timeout_s=timeout_s)
    return AnthropicModel(
        "claude-sonnet-4-6",
        api_key=ANTHROPIC_KEY,
        base_url=api_url,
        settings=settings,
        sleep=sleeps,
        rng=random.Random(7),
    )


def gpt(
    api_url: str, sleeps: SleepRecorder, attempts: int = 4, timeout_s: float = 5.0
) -> OpenAIModel:
    settings = fast(attempts=attempts, timeout_s=timeout_s)
    return OpenAIModel(
        "gpt-4o",
        api_key=OPENAI_KEY,
        base_url=api_url,
        settings=settings,
        sleep=sleeps,
        rng=random.Random(7),
    )


async def test_429_retry_after_is_honoured(
    anthropic_api: FakeAnthropic, sleeps: SleepRecorder
) -> None:
    anthropic_api.error(429, headers={"retry-after": "2"})
    anthropic_api.reply("recovered")
    reply = await claude(anthropic_api.base_url, sleeps).complete(system="", messages=ASK, tools=[])
    assert reply.text == "recovered"
    assert sleeps.calls == [2.0]
    assert len(anthropic_api.requests) == 2
    assert anthropic_api.requests[0].body == anthropic_api.requests[1].body


async def test_retry_after_ms_wins_over_retry_after(
    openai_api: FakeOpenAI, sleeps: SleepRecorder
) -> None:
    openai_api.error(429, headers={"retry-after-ms": "1500", "retry-after": "9"})
    openai_api.reply("ok")
    reply = await gpt(openai_api.base_url, sleeps).complete(system="", messages=ASK, tools=[])
    assert reply.text == "ok"
    assert sleeps.calls == [1.5]


async def test_529_exhaustion(anthropic_api: FakeAnthropic, sleeps: SleepRecorder) -> None:
    for _ in range(4):
        anthropic_api.error(529)
    with pytest.raises(ProviderOverloadedError) as info:
        await claude(anthropic_api.base_url, sleeps).complete(system="", messages=ASK, tools=[])
    err = info.value
    assert str(err).startswith("Anthropic is overloaded (529) after 4 attempts")
    assert "request-id req_011CFake" in str(err)
    assert (err.attempts, err.status, err.transient) == (4, 529, True)
    assert len(anthropic_api.requests) == 4
    # exponential backoff with jitter in [d/2, d] for d = 0.5, 1, 2
    assert len(sleeps.calls) == 3
    for wait, full in zip(sleeps.calls, (0.5, 1.0, 2.0), strict=True):
        assert full / 2 <= wait <= full


async def test_500_exhaustion_openai(openai_api: FakeOpenAI, sleeps: SleepRecorder) -> None:
    for _ in range(3):
        openai_api.error(500)
    with pytest.raises(ProviderServerError) as info:
        await gpt(openai_api.base_url, sleeps, attempts=3).complete(
            system="", messages=ASK, tools=[]
        )
    assert str(info.value).startswith(
        "OpenAI had a server error (500 server_error) after 3 attempts"
    )
    assert "request-id req_fake" in str(info.value)
    assert len(openai_api.requests) == 3 and len(sleeps.calls) == 2


async def test_503_then_success(openai_api: FakeOpenAI, sleeps: SleepRecorder) -> None:
    openai_api.error(503)
    openai_api.reply("back")
    reply = await gpt(openai_api.base_url, sleeps).complete(system="", messages=ASK, tools=[])
    assert reply.text == "back" and len(sleeps.calls) == 1


async def test_401_is_not_retried(anthropic_api: FakeAnthropic, sleeps: SleepRecorder) -> None:
    anthropic_api.error(401)
    with pytest.raises(ProviderAuthError) as info:
        await claude(anthropic_api.base_url, sleeps).complete(system="", messages=ASK, tools=[])
    assert str(info.value).startswith(
        "Anthropic rejected the API key (401 authentication_error). Check ANTHROPIC_API_KEY."
    )
    assert info.value.attempts == 1 and not info.value.transient
    assert len(anthropic_api.requests) == 1 and sleeps.calls == []


async def test_400_is_not_retried(openai_api: FakeOpenAI, sleeps: SleepRecorder) -> None:
    openai_api.error(400, "Invalid value for 'messages[1].role'.")
    with pytest.raises(ProviderRequestError) as info:
        await gpt(openai_api.base_url, sleeps).complete(system="", messages=ASK, tools=[])
    assert "OpenAI rejected the request (400 invalid_request_error)" in str(info.value)
    assert "Invalid value for 'messages[1].role'." in str(info.value)
    assert len(openai_api.requests) == 1 and sleeps.calls == []


@pytest.mark.parametrize("nested", [True, False])
async def test_a_compatible_servers_status_in_code_is_not_told_twice(
    openai_api: FakeOpenAI, sleeps: SleepRecorder, nested: bool
) -> None:
    """vLLM's errors carry the status again as their ``code`` (an int), nested in "error"
    or not: told as "rejected the request (400 400)", the type that says what it was left
    out."""
    error = {"object": "error", "message": "max_tokens is too large: 9000.", "type": "BadRequestError", "param": None, "code": 400}  # fmt: skip
    openai_api.error(400, body={"error": error} if nested else error)
    with pytest.raises(ProviderRequestError) as info:
        await gpt(openai_api.base_url, sleeps).complete(system="", messages=ASK, tools=[])
    said = str(info.value)
    assert "rejected the request (400 BadRequestError): max_tokens is too large" in said, said
    assert info.value.error_type == "BadRequestError"


async def test_404_model_not_found(anthropic_api: FakeAnthropic, sleeps: SleepRecorder) -> None:
    anthropic_api.error(404)
    with pytest.raises(ProviderModelNotFoundError) as info:
        await claude(anthropic_api.base_url, sleeps).complete(system="", messages=ASK, tools=[])
    assert "does not know the model 'claude-sonnet-4-6'" in str(info.value)
    assert len(anthropic_api.requests) == 1


@pytest.mark.parametrize(
    ("status", "details", "code"),
    [(429, {"error_code": "enforced_spend_limit_reached"}, None)],
)
async def test_anthropic_spend_limit_is_not_retried(
    anthropic_api: FakeAnthropic,
    sleeps: SleepRecorder,
    status: int,
    details: dict[str, str],
    code: str | None,
) -> None:
    anthropic_api.error(status, details=details, message="spend limit reached")
    with pytest.raises(ProviderQuotaError, match="out of credit or over its spend limit"):
        await claude(anthropic_api.base_url, sleeps).complete(system="", messages=ASK, tools=[])
    assert sleeps.calls == []


async def test_openai_insufficient_quota_is_not_retried(
    openai_api: FakeOpenAI, sleeps: SleepRecorder
) -> None:
    openai_api.error(
        429,
        "You exceeded your current quota.",
        type="insufficient_quota",
        code="insufficient_quota",
    )
    with pytest.raises(ProviderQuotaError):
        await gpt(openai_api.base_url, sleeps).complete(system="", messages=ASK, tools=[])
    assert sleeps.calls == [] and len(openai_api.requests) == 1


async def test_retry_after_beyond_cap_gives_up_at_once(
    anthropic_api: FakeAnthropic, sleeps: SleepRecorder
) -> None:
    anthropic_api.error(429, headers={"retry-after": "600"})
    with pytest.raises(ProviderRateLimitError) as info:
        await claude(anthropic_api.base_url, sleeps).complete(system="", messages=ASK, tools=[])
    assert "retry after 600 s" in str(info.value)
    assert info.value.retry_after == 600.0
    assert sleeps.calls == []


async def test_connection_refused(sleeps: SleepRecorder) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ProviderConnectionError) as info:
        await claude(url, sleeps, attempts=2).complete(system="", messages=ASK, tools=[])
    assert str(info.value) == (
        f"Cannot reach Anthropic at {url}/v1/messages (connection refused) after 2 attempts."
    )
    assert len(sleeps.calls) == 1


async def test_timeout_is_retried_then_fails(openai_api: FakeOpenAI, sleeps: SleepRecorder) -> None:
    openai_api.reply("too late", delay=1.0)
    openai_api.reply("too late", delay=1.0)
    model = gpt(openai_api.base_url, sleeps, attempts=2, timeout_s=0.2)
    await model.ready()  # the SDK's import (seconds on a busy machine) is no attempt's
    started = time.perf_counter()
    with pytest.raises(ProviderTimeoutError) as info:
        await model.complete(system="", messages=ASK, tools=[])
    assert time.perf_counter() - started < 1.5
    assert str(info.value) == "OpenAI did not answer within 0.2 s (2 attempts)."
    assert len(openai_api.requests) == 2 and len(sleeps.calls) == 1


async def test_timeout_then_success(anthropic_api: FakeAnthropic, sleeps: SleepRecorder) -> None:
    anthropic_api.reply("slow", delay=1.0)
    anthropic_api.reply("fast")
    model = claude(anthropic_api.base_url, sleeps, timeout_s=0.2)
    reply = await model.complete(system="", messages=ASK, tools=[])
    assert reply.text == "fast" and len(sleeps.calls) == 1


async def test_non_json_gateway_page_is_retried(
    anthropic_api: FakeAnthropic, sleeps: SleepRecorder
) -> None:
    anthropic_api.raw(502, "<html><body>502 Bad Gateway</body></html>")
    anthropic_api.reply("through")
    reply = await claude(anthropic_api.base_url, sleeps).complete(system="", messages=ASK, tools=[])
    assert reply.text == "through" and len(sleeps.calls) == 1


async def test_non_json_success_is_a_response_error(
    openai_api: FakeOpenAI, sleeps: SleepRecorder
) -> None:
    openai_api.raw(200, "<html>captive portal</html>")
    with pytest.raises(ProviderResponseError, match="not an API reply"):
        await gpt(openai_api.base_url, sleeps).complete(system="", messages=ASK, tools=[])


async def test_cancellation_is_not_wrapped(anthropic_api: FakeAnthropic) -> None:
    anthropic_api.reply("never", delay=5.0)
    model = claude(anthropic_api.base_url, SleepRecorder())
    task = asyncio.create_task(model.complete(system="", messages=ASK, tools=[]))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after": "0.25"}) == 0.25
    assert parse_retry_after({"retry-after-ms": "40"}) == 0.04
    assert parse_retry_after({"retry-after-ms": "junk", "retry-after": "1"}) == 1.0
    assert parse_retry_after({}) is None
    assert parse_retry_after({"retry-after": "soon"}) is None
    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    date_wait = parse_retry_after({"retry-after": future})
    assert date_wait is not None and 25 <= date_wait <= 31


def test_retry_classification() -> None:
    for status in (408, 409, 429, 500, 502, 503, 504, 529):
        assert Failure("status", status=status).retryable
    for status in (400, 401, 403, 404, 413, 422):
        assert not Failure("status", status=status).retryable
    assert Failure("timeout").retryable and Failure("connection").retryable
    assert not Failure("status", status=429, error_code="insufficient_quota").retryable


def test_backoff_is_capped_and_jittered() -> None:
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=4.0, jitter=0.5)
    rng = random.Random(1)
    waits = [policy.backoff(n, rng) for n in range(1, 7)]
    for n, wait in enumerate(waits, start=1):
        full = min(4.0, 2.0 ** (n - 1))
        assert full / 2 <= wait <= full
    assert RetryPolicy(jitter=0.0).backoff(3, rng) == 4.0
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


def test_every_error_is_a_provider_error() -> None:
    for cls in (
        ProviderAuthError,
        ProviderConnectionError,
        ProviderModelNotFoundError,
        ProviderOverloadedError,
        ProviderQuotaError,
        ProviderRateLimitError,
        ProviderRequestError,
        ProviderResponseError,
        ProviderServerError,
        ProviderTimeoutError,
    ):
        assert issubclass(cls, ProviderError)
