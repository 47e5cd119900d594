"""A ``retry-after`` that is an HTTP date, through the real SDKs: HTTP dates are GMT
(RFC 9110 section 5.6.7), in the IMF form and in the two obsolete ones a server may
still send, whatever zone the machine signoff runs on is set to. One that asks for no
wait at all (0, a date gone by) is no reason to hurry; a 429 without one still says when
its limit is replenished (Anthropic: RFC 3339 times, OpenAI: durations such as "6m0s")."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import pytest
from fake_anthropic import FakeAnthropic
from fake_openai import FakeOpenAI
from providers_testkit import ANTHROPIC_KEY, OPENAI_KEY, SleepRecorder, fast

from agent_core.messages import UserMessage
from agent_core.providers import AnthropicModel, OpenAIModel, ProviderError, ProviderRateLimitError

ASK = [UserMessage(text="status?")]


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's local time is five hours behind GMT (a POSIX zone: no tzdata needed)."""
    monkeypatch.setenv("TZ", "EST+05")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


async def one_wait(
    model: AnthropicModel | OpenAIModel,
    api: FakeAnthropic | FakeOpenAI,
    sleeps: SleepRecorder,
    headers: Callable[[float], dict[str, str]],
) -> float:
    """The wait before the one retry of a 429 sent with ``headers(now)``."""
    try:
        # The time is taken once the SDK is imported: on a busy machine its import took
        # seconds of the wait asked, and the wait fell below what the test asks.
        await model.ready()
        api.error(429, headers=headers(time.time())).reply("recovered")
        reply = await model.complete(system="", messages=ASK, tools=[])
    finally:
        await model.aclose()
    assert reply.text == "recovered"
    [wait] = sleeps.calls
    return wait


def _pair(
    provider: str, anthropic_api: FakeAnthropic, openai_api: FakeOpenAI, sleeps: SleepRecorder
) -> tuple[FakeAnthropic | FakeOpenAI, AnthropicModel | OpenAIModel]:
    if provider == "anthropic":
        return anthropic_api, AnthropicModel("claude-sonnet-4-6", api_key=ANTHROPIC_KEY, base_url=anthropic_api.base_url, settings=fast(), sleep=sleeps)  # fmt: skip
    return openai_api, OpenAIModel("gpt-4o", api_key=OPENAI_KEY, base_url=openai_api.base_url, settings=fast(), sleep=sleeps)  # fmt: skip


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
    api, model = _pair(provider, anthropic_api, openai_api, sleeps)
    wait = await one_wait(model, api, sleeps, lambda now: {"retry-after": time.strftime(form, time.gmtime(now + 30))})  # fmt: skip
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
        {"retry-after": "inf"},
        {"retry-after-ms": "Infinity"},
        {"retry-after": "9" * 400},  # digits, as HTTP writes a wait, too many for a float
        {"retry-after": "1e300"},
        {"retry-after": "Fri, 31 Dec 9999 23:59:59 GMT"},
    ],
    ids=["inf", "ms-Infinity", "400-nines", "1e300", "year-9999"],
)
@pytest.mark.parametrize("provider", ["anthropic", "openai"])
async def test_a_wait_past_reckoning_is_told_as_more_than_a_year(
    anthropic_api: FakeAnthropic,
    openai_api: FakeOpenAI,
    sleeps: SleepRecorder,
    provider: str,
    asked: dict[str, str],
) -> None:
    """The call ends at once, as for any wait over a minute, but the thread was told "it
    asks to retry after about inf days", or a number of days 300 digits long."""
    api, model = _pair(provider, anthropic_api, openai_api, sleeps)
    api.error(429, headers=asked)
    with pytest.raises(ProviderRateLimitError) as info:
        await model.complete(system="", messages=ASK, tools=[])
    said = str(info.value)
    assert "(429) after 1 attempt; it asks to retry after more than a year." in said, said
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


async def test_an_anthropic_429_without_retry_after_waits_for_the_exhausted_limit(
    anthropic_api: FakeAnthropic, sleeps: SleepRecorder
) -> None:
    """Without ``retry-after`` (a gateway dropped it), the ``anthropic-ratelimit-*``
    headers still say which limit ran out and when it is replenished (RFC 3339): the
    backoff's 0.5-4 s spent every attempt before then and failed the turn."""
    model = AnthropicModel("claude-sonnet-4-6", api_key=ANTHROPIC_KEY, base_url=anthropic_api.base_url, settings=fast(), sleep=sleeps)  # fmt: skip

    def headers(now: float) -> dict[str, str]:
        def at(ahead_s: float) -> str:
            return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + ahead_s))

        return {
            "anthropic-ratelimit-requests-remaining": "12",
            "anthropic-ratelimit-requests-reset": at(50),
            "anthropic-ratelimit-tokens-remaining": "0",
            "anthropic-ratelimit-tokens-reset": at(20),
        }

    wait = await one_wait(model, anthropic_api, sleeps, headers)
    assert 15 <= wait <= 21


@pytest.mark.parametrize(
    ("limit", "reset", "wanted"), [("tokens", "19.5s", 19.5), ("requests", "1m0s", 60.0)]
)
async def test_an_openai_429_without_retry_after_waits_for_the_limit_it_names(
    openai_api: FakeOpenAI, sleeps: SleepRecorder, limit: str, reset: str, wanted: float
) -> None:
    """OpenAI's 429 names the limit in its type (``tokens``, ``requests``) and the
    ``x-ratelimit-reset-*`` headers say when it is replenished ("6m0s", "41.724s"); a 429
    without ``retry-after`` (Azure's often) spent every attempt of the 0.5-4 s backoff
    before then and failed the turn. A request bigger than what is left gets a 429 while
    tokens remain, so the limit named counts, not the ``remaining`` count."""
    model = OpenAIModel("gpt-4o", api_key=OPENAI_KEY, base_url=openai_api.base_url, settings=fast(), sleep=sleeps)  # fmt: skip
    headers = {
        "x-ratelimit-remaining-requests": "4999" if limit == "tokens" else "0",
        "x-ratelimit-reset-requests": "12ms" if limit == "tokens" else reset,
        "x-ratelimit-remaining-tokens": "1218" if limit == "tokens" else "150000",
        "x-ratelimit-reset-tokens": reset if limit == "tokens" else "7ms",
    }
    openai_api.error(429, type=limit, headers=headers).reply("recovered")
    try:
        reply = await model.complete(system="", messages=ASK, tools=[])
    finally:
        await model.aclose()
    assert reply.text == "recovered" and sleeps.calls == [wanted]


async def test_a_server_error_whose_message_ends_a_sentence_is_told_in_one(
    anthropic_api: FakeAnthropic, sleeps: SleepRecorder
) -> None:
    """A 500 saying "Internal error." and asking for a long wait was told as "…: Internal
    error.; it asks to retry after 2 h." (a reviewer's find)."""
    model = AnthropicModel("claude-sonnet-4-6", api_key=ANTHROPIC_KEY, base_url=anthropic_api.base_url, settings=fast(), sleep=sleeps)  # fmt: skip
    try:
        await model.ready()
        anthropic_api.error(500, message="Internal error.", headers={"retry-after": "7200"})
        with pytest.raises(ProviderError) as info:
            await model.complete(system="", messages=ASK, tools=[])
    finally:
        await model.aclose()
    told = str(info.value)
    assert ": Internal error; it asks to retry after about 2 h." in told, told
