"""A ``retry-after`` that is an HTTP date, through the real SDKs: HTTP dates are GMT
(RFC 9110 section 5.6.7), in the IMF form and in the two obsolete ones a server may
still send, whatever zone the machine signoff runs on is set to. One that asks for no
wait at all (0, a date gone by) is no reason to hurry."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from fake_anthropic import FakeAnthropic
from fake_openai import FakeOpenAI
from providers_testkit import ANTHROPIC_KEY, OPENAI_KEY, SleepRecorder, fast

from agent_core.messages import UserMessage
from agent_core.providers import AnthropicModel, OpenAIModel, ProviderRateLimitError

ASK = [UserMessage(text="status?")]


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's local time is five hours behind GMT (a POSIX zone: no tzdata needed)."""
    monkeypatch.setenv("TZ", "EST+05")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(
    "form",
    [
        "%a, %d %b %Y %H:%M:%S GMT",  # IMF-fixdate
        "%A, %d-%b-%y %H:%M:%S GMT",  # RFC 850
        "%a %b %d %H:%M:%S %Y",  # asctime: no zone named, GMT all the same
    ],
)
@pytest.mark.parametrize("provider", ["anthropic", "openai"])
async def test_a_retry_after_date_is_gmt_in_every_form(
    anthropic_api: FakeAnthropic,
    openai_api: FakeOpenAI,
    sleeps: SleepRecorder,
    new_york: None,
    provider: str,
    form: str,
) -> None:
    """The asctime form was read as local time: 5 h off here, past the longest wait
    honoured, so a 429 asking for 30 s ended the call at once."""
    model: AnthropicModel | OpenAIModel
    api: FakeAnthropic | FakeOpenAI
    if provider == "anthropic":
        api, model = anthropic_api, AnthropicModel("claude-sonnet-4-6", api_key=ANTHROPIC_KEY, base_url=anthropic_api.base_url, settings=fast(), sleep=sleeps)  # fmt: skip
    else:
        api, model = openai_api, OpenAIModel("gpt-4o", api_key=OPENAI_KEY, base_url=openai_api.base_url, settings=fast(), sleep=sleeps)  # fmt: skip
    try:
        # The date is taken once the SDK is imported: on a busy machine its import took
        # seconds of the 30, and the wait fell below what this asks.
        await model.ready()
        when = time.strftime(form, time.gmtime(time.time() + 30))
        api.error(429, headers={"retry-after": when}).reply("recovered")
        reply = await model.complete(system="", messages=ASK, tools=[])
    finally:
        await model.aclose()
    assert reply.text == "recovered"
    [wait] = sleeps.calls
    assert 25 <= wait <= 31


@pytest.mark.parametrize(
    ("ahead_s", "said"),
    [
        (120.5, r"retry after \d+ s\."),  # whole seconds: the date names no fraction
        (3 * 3600 + 30, r"retry after about 3 h\."),
        (40 * 86400 + 30, r"retry after about 40 days\."),
    ],
)
async def test_a_long_retry_after_date_is_told_in_words_a_person_reads(
    anthropic_api: FakeAnthropic, sleeps: SleepRecorder, ahead_s: float, said: str
) -> None:
    """A date's wait is fractional, and a far one is large: the thread was told "it asks
    to retry after 119.629 s", or "after 2.29974e+09 s"."""
    model = AnthropicModel("claude-sonnet-4-6", api_key=ANTHROPIC_KEY, base_url=anthropic_api.base_url, settings=fast(), sleep=sleeps)  # fmt: skip
    try:
        await model.ready()  # the SDK's import is no part of the wait
        when = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + ahead_s))
        anthropic_api.error(429, headers={"retry-after": when})
        with pytest.raises(ProviderRateLimitError) as info:
            await model.complete(system="", messages=ASK, tools=[])
    finally:
        await model.aclose()
    assert re.search(said, str(info.value)), str(info.value)
    assert sleeps.calls == []


@pytest.mark.parametrize(
    "asked",
    [
        {"retry-after": "0"},
        {"retry-after-ms": "0"},
        {"retry-after": "Sun, 06 Nov 1994 08:49:37 GMT"},
    ],
)
async def test_a_retry_after_that_asks_for_no_wait_still_backs_off(
    openai_api: FakeOpenAI, sleeps: SleepRecorder, asked: dict[str, str]
) -> None:
    """A gateway that answers every 429 with ``retry-after: 0`` (or a date gone by) had
    every attempt of the call made back to back, the turn failing within milliseconds of
    the first; both SDKs back off there, as for a 429 that names no wait."""
    model = OpenAIModel("gpt-4o", api_key=OPENAI_KEY, base_url=openai_api.base_url, settings=fast(), sleep=sleeps)  # fmt: skip
    for _ in range(3):
        openai_api.error(429, headers=asked)
    openai_api.reply("ok")
    try:
        reply = await model.complete(system="", messages=ASK, tools=[])
    finally:
        await model.aclose()
    assert reply.text == "ok"
    assert len(sleeps.calls) == 3 and min(sleeps.calls) >= 0.25  # fast(): from 0.5 s, jitter 0.5
