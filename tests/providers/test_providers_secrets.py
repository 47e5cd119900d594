"""The API key never shows up in an exception message, repr, traceback or log line."""

from __future__ import annotations

import logging
import traceback

import pytest
from fake_anthropic import FakeAnthropic
from fake_openai import FakeOpenAI
from loopback_ports import free_port
from providers_testkit import ANTHROPIC_KEY, OPENAI_KEY, SleepRecorder, fast

from agent_core.messages import UserMessage
from agent_core.providers import AnthropicModel, OpenAIModel, ProviderError, doctor

ASK = [UserMessage(text="hi")]
LOGGERS = ("", "agent_core", "anthropic", "openai", "httpx2", "httpcore2", "httpx", "httpcore")


def assert_clean(err: BaseException, key: str) -> None:
    rendered = "".join(traceback.format_exception(err))
    for text in (str(err), repr(err), rendered, *map(str, err.args)):
        assert key not in text
    assert err.__cause__ is None


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


async def test_anthropic_key_never_leaks(all_logs: pytest.LogCaptureFixture) -> None:
    async with FakeAnthropic() as api:
        echo = f"bad key {ANTHROPIC_KEY} rejected"
        api.error(401, message=echo)
        api.error(400, message=echo)
        api.error(529, message=echo)
        api.error(529, message=echo)
        api.reply("late", delay=1.0)
        api.reply("fine")
        model = AnthropicModel(
            "claude-sonnet-4-6",
            api_key=ANTHROPIC_KEY,
            base_url=api.base_url,
            settings=fast(attempts=2, timeout_s=0.2),
            sleep=SleepRecorder(),
        )
        errors: list[ProviderError] = []
        for _ in range(4):
            try:
                await model.complete(system="", messages=ASK, tools=[])
            except ProviderError as caught:
                errors.append(caught)
        assert [type(e).__name__ for e in errors] == [
            "ProviderAuthError",
            "ProviderRequestError",
            "ProviderOverloadedError",
        ]
        assert "[redacted]" in str(errors[1])
        for err in errors:
            assert_clean(err, ANTHROPIC_KEY)
        assert ANTHROPIC_KEY not in repr(model)
        await model.aclose()
    assert all_logs.records, "expected some log output to inspect"
    assert ANTHROPIC_KEY not in all_logs.text
    assert all(ANTHROPIC_KEY not in r.getMessage() for r in all_logs.records)


async def test_openai_key_never_leaks(all_logs: pytest.LogCaptureFixture) -> None:
    refused = f"http://127.0.0.1:{free_port()}/v1"
    async with FakeOpenAI() as api:
        api.error(401, f"Incorrect API key provided: {OPENAI_KEY}.")
        api.error(500, f"boom {OPENAI_KEY}")
        model = OpenAIModel(
            "gpt-4o",
            api_key=OPENAI_KEY,
            base_url=api.base_url,
            settings=fast(attempts=1),
            sleep=SleepRecorder(),
        )
        offline = OpenAIModel(
            "gpt-4o", api_key=OPENAI_KEY, base_url=refused, settings=fast(attempts=1)
        )
        errors: list[ProviderError] = []
        for m in (model, model, offline):
            with pytest.raises(ProviderError) as info:
                await m.complete(system="", messages=ASK, tools=[])
            errors.append(info.value)
        for err in errors:
            assert_clean(err, OPENAI_KEY)
        report = await doctor(
            "openai:gpt-4o", env={"OPENAI_API_KEY": OPENAI_KEY, "OPENAI_BASE_URL": refused}
        )
        assert OPENAI_KEY not in report.message and OPENAI_KEY not in repr(report)
        await model.aclose()
        await offline.aclose()
    assert OPENAI_KEY not in all_logs.text


def one_attempt(api: FakeAnthropic) -> AnthropicModel:
    return AnthropicModel(
        "claude-sonnet-4-6",
        api_key=ANTHROPIC_KEY,
        base_url=api.base_url,
        settings=fast(attempts=1),
        sleep=SleepRecorder(),
    )


async def test_a_key_echoed_in_an_errors_type_or_request_id_never_leaks() -> None:
    # Only the message was scrubbed: a gateway that names the key it refused in the error
    # type, or hands it back as the request id, put it in what the thread is told.
    async with FakeAnthropic() as api:
        api.error(
            400,
            headers={"request-id": f"req-{ANTHROPIC_KEY}"},
            body={
                "type": "error",
                "error": {"type": f"invalid_key:{ANTHROPIC_KEY}", "message": "refused"},
            },
        )
        model = one_attempt(api)
        with pytest.raises(ProviderError) as info:
            await model.complete(system="", messages=ASK, tools=[])
        assert_clean(info.value, ANTHROPIC_KEY)
        for value in (info.value.error_type, info.value.request_id):
            assert ANTHROPIC_KEY not in str(value)
        await model.aclose()


async def test_half_a_surrogate_pair_in_an_errors_type_or_request_id_is_replaced() -> None:
    # Told in the thread and written in the trace: UTF-8 cannot hold half a pair.
    async with FakeAnthropic() as api:
        api.error(
            400,
            body={"type": "error", "error": {"type": "bad\ud800type", "message": "no"}},
        )
        model = one_attempt(api)
        with pytest.raises(ProviderError) as info:
            await model.complete(system="", messages=ASK, tools=[])
        for text in (str(info.value), str(info.value.error_type)):
            text.encode("utf-8")  # raises on half a pair
        await model.aclose()
