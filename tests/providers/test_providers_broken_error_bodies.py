"""An error answer whose body cannot be read (the connection dropped while it came, or a
proxy labelled it gzip and it is not), through the real SDKs, streamed as the bot calls
and not: the SDKs let their HTTP client's exception through as it was, so it was neither
retried nor told as what it is. A reply whose body does not decode is told so too; an
error's is told by its status and headers, its body not read."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from engine_support import RecordingSink
from fake_anthropic import FakeAnthropic
from fake_openai import FakeOpenAI
from fake_provider_http import Scripted
from providers_testkit import ANTHROPIC_KEY, OPENAI_KEY, SleepRecorder, fast

from agent_core.messages import UserMessage
from agent_core.providers import (
    AnthropicModel,
    OpenAIModel,
    ProviderAuthError,
    ProviderConnectionError,
    ProviderError,
    ProviderResponseError,
)
from agent_core.providers.read_bound import READ_LIMIT

ASK = [UserMessage(text="status of api?", user="U0ALICE", ts="1700000000.000100")]
Api = FakeAnthropic | FakeOpenAI
Model = AnthropicModel | OpenAIModel


@pytest.fixture
async def opened() -> AsyncIterator[list[Model]]:
    models: list[Model] = []
    yield models
    for model in models:
        await model.aclose()


def _on(
    provider: str,
    anthropic_api: FakeAnthropic,
    openai_api: FakeOpenAI,
    sleeps: SleepRecorder,
    *,
    read_limit: int = READ_LIMIT,
) -> tuple[Api, Model]:
    settings = replace(fast(attempts=3), read_limit=read_limit)
    if provider == "anthropic":
        claude = AnthropicModel("claude-sonnet-4-6", api_key=ANTHROPIC_KEY, base_url=anthropic_api.base_url, settings=settings, sleep=sleeps)  # fmt: skip
        return anthropic_api, claude
    gpt = OpenAIModel("gpt-4o", api_key=OPENAI_KEY, base_url=openai_api.base_url, settings=settings, sleep=sleeps)  # fmt: skip
    return openai_api, gpt


def _error(
    api: Api, status: int, *, cut: int | None = None, encoding: str | None = None
) -> Scripted:
    body = api.error_body(status, "Number of request tokens has exceeded your rate limit")
    headers = {"retry-after": "2"}
    return Scripted(status, body, headers=headers, body_cut=cut, garbled_encoding=encoding)


async def _ask(model: Model, streamed: bool) -> str:
    if streamed:
        reply = await model.stream(system="", messages=ASK, tools=[], sink=RecordingSink())
    else:
        reply = await model.complete(system="", messages=ASK, tools=[])
    return reply.text


@pytest.mark.parametrize("streamed", [True, False], ids=["streamed", "whole"])
@pytest.mark.parametrize("provider", ["anthropic", "openai"])
@pytest.mark.parametrize("status", [429, 529, 500])
async def test_an_error_whose_body_was_cut_off_is_retried_like_a_dropped_connection(
    anthropic_api: FakeAnthropic,
    openai_api: FakeOpenAI,
    sleeps: SleepRecorder,
    opened: list[Model],
    provider: str,
    status: int,
    streamed: bool,
) -> None:
    """Was: httpx2.ReadError ("Response payload is not completed: <ContentLengthError:
    400, …>") or RemoteProtocolError out of the call, at once, told in the thread as it."""
    api, model = _on(provider, anthropic_api, openai_api, sleeps)
    opened.append(model)
    api.enqueue(_error(api, status, cut=20))
    api.reply("api is up")
    assert await _ask(model, streamed) == "api is up"
    assert len(api.requests) == 2 and len(sleeps.calls) == 1

    for _ in range(3):
        api.enqueue(_error(api, status, cut=20))
    with pytest.raises(ProviderConnectionError) as raised:
        await _ask(model, streamed)
    assert "(connection dropped) after 3 attempts" in str(raised.value)


@pytest.mark.parametrize("streamed", [True, False], ids=["streamed", "whole"])
@pytest.mark.parametrize("provider", ["anthropic", "openai"])
@pytest.mark.parametrize("coding", ["gzip", "deflate"])
async def test_a_body_that_does_not_decode_is_an_unreadable_answer(
    anthropic_api: FakeAnthropic,
    openai_api: FakeOpenAI,
    sleeps: SleepRecorder,
    opened: list[Model],
    provider: str,
    streamed: bool,
    coding: str,
) -> None:
    """Was: httpx2.DecodingError ("Error -3 while decompressing data: incorrect header
    check") out of the call. The server answered: not told as one that cannot be reached.
    A 200's stream so labelled was then "answered, but its answer broke off midway
    (connection failed)", which sent people to look for a network fault. (An error's
    body so labelled: test_an_error_whose_body_cannot_be_read_is_still_its_status.)"""
    api, model = _on(provider, anthropic_api, openai_api, sleeps)
    opened.append(model)
    for _ in range(2):
        api.enqueue(_undecodable(api, coding))
    api.reply("api is up")
    assert await _ask(model, streamed) == "api is up"  # retried like an unreadable reply
    for _ in range(3):
        api.enqueue(_undecodable(api, coding))
    with pytest.raises(ProviderResponseError) as raised:
        await _ask(model, streamed)
    said = str(raised.value)
    told = f"sent a reply signoff cannot read (a body labelled {coding} that does not decode)"
    assert f"{told} after 3 attempts" in said, said


def _undecodable(api: Api, coding: str) -> Scripted:
    body = api.message("api is up") if isinstance(api, FakeAnthropic) else api.completion("up")
    return Scripted(body=body, garbled_encoding=coding)


def _unreadable_error(api: Api, status: int, how: str, *, wait: str = "7") -> Scripted:
    """An error whose status and headers say what it is, and whose body cannot be read."""
    body = api.error_body(status, "Number of request tokens has exceeded your rate limit")
    headers = {"retry-after": wait}
    if how == "over-the-bound":  # valid JSON, 2 MiB of it spaces: 2 KB in gzip
        padded = json.dumps(body) + " " * (2 << 20)
        return Scripted(status, text=padded, content_type="application/json", headers=headers, encoding="gzip")  # fmt: skip
    return Scripted(status, body, headers=headers, garbled_encoding=how)


@pytest.mark.parametrize("streamed", [True, False], ids=["streamed", "whole"])
@pytest.mark.parametrize("provider", ["anthropic", "openai"])
@pytest.mark.parametrize("how", ["gzip", "br", "over-the-bound"])
async def test_an_error_whose_body_cannot_be_read_is_still_its_status(
    anthropic_api: FakeAnthropic,
    openai_api: FakeOpenAI,
    sleeps: SleepRecorder,
    opened: list[Model],
    provider: str,
    streamed: bool,
    how: str,
) -> None:
    """An error's status and headers say what it is; its body only adds the server's
    words. Was: a 429 whose body did not decode (labelled gzip and not, in br, or past the
    bound) was an unreadable reply, so its retry-after was lost: retried after the backoff
    (0.4 s for 7 s asked), and a wait past what a call waits was not told; a 401 so sent
    was retried three times and told as an unreadable reply, not as a rejected key. Now
    such a body is handed on empty, and the SDK's error is the status's, with its headers."""
    api, model = _on(provider, anthropic_api, openai_api, sleeps, read_limit=1 << 20)
    opened.append(model)
    api.enqueue(_unreadable_error(api, 429, how))
    api.reply("api is up")
    assert await _ask(model, streamed) == "api is up"
    assert sleeps.calls == [7]  # the wait asked for, not the backoff

    api.enqueue(_unreadable_error(api, 429, how, wait="3600"))
    with pytest.raises(ProviderError) as raised:
        await _ask(model, streamed)
    said = str(raised.value)
    assert "rate limiting us (429) after 1 attempt; it asks to retry after about 1 h" in said, said
    assert "exceeded" not in said  # the body was not read

    api.enqueue(_unreadable_error(api, 401, how))
    with pytest.raises(ProviderAuthError) as rejected:
        await _ask(model, streamed)
    assert "rejected the API key (401" in str(rejected.value)
    assert len(api.requests) == 4  # the 401 was not tried again
