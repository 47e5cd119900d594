"""One line of a model's stream that never ends is bounded, not read until the timeout.

The answer's cap counts a streamed reply event by event, and an event is counted only
once its line ends: the SDKs keep its bytes until then. A server (or a proxy) that sent a
line without end was read into memory at the wire's speed until the attempt's timeout
(half a gigabyte in 4 s on loopback), then told as a server that did not answer. A body
that is not a stream was read whole alike. Now a line past ``read_limit`` bytes (a body:
all of it) ends the attempt as an unreadable reply, each attempt bounded.

What is bounded is what a body decodes to. A body that is not a stream was counted
compressed, as it came over the wire: a reply of a few kilobytes that inflates to
gigabytes (gzip inflates a thousand to one, gzip in gzip a million) was read whole into
memory. An event stream in two codings, or labelled br or zstd, was left to httpx,
unbounded. Now every coding is decoded in one place (``read_bound``); the clients ask for
gzip and deflate only, and a body in a compression signoff did not ask for is not read.
"""

from __future__ import annotations

import json
from collections.abc import Callable

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
    ModelSettings,
    OpenAIModel,
    ProviderError,
    ProviderResponseError,
)
from agent_core.providers.read_bound import READ_LIMIT

ASK = [UserMessage(text="how is api?", user="U0ALICE", ts="1700000000.000100")]
LIMIT = 1 << 20


def _settings(limit: int, *, timeout_s: float) -> ModelSettings:
    # a timeout far beyond what reading the limit takes: the bound ends it, not the clock
    return ModelSettings(
        max_tokens=16_384, timeout_s=timeout_s, retry=fast(attempts=2).retry, read_limit=limit
    )


Pair = tuple[AnthropicModel | OpenAIModel, FakeAnthropic | FakeOpenAI]
Pairing = Callable[..., Pair]


@pytest.fixture(params=["anthropic", "openai"])
def provider(
    request: pytest.FixtureRequest,
    anthropic_api: FakeAnthropic,
    openai_api: FakeOpenAI,
    sleeps: SleepRecorder,
) -> Pairing:
    """``provider(limit=…)``: a model of each provider in turn, and its fake."""

    def make(*, limit: int = LIMIT, timeout_s: float = 60.0) -> Pair:
        settings = _settings(limit, timeout_s=timeout_s)
        if request.param == "anthropic":
            return AnthropicModel("claude-sonnet-4-6", api_key=ANTHROPIC_KEY, base_url=anthropic_api.base_url, settings=settings, sleep=sleeps), anthropic_api  # fmt: skip
        return OpenAIModel("gpt-4o", api_key=OPENAI_KEY, base_url=openai_api.base_url, settings=settings, sleep=sleeps), openai_api  # fmt: skip

    return make


async def test_a_line_without_end_is_cut_at_the_bound_not_read_until_the_timeout(
    provider: Pairing,
) -> None:
    model, api = provider()
    for _ in range(2):
        api.enqueue(Scripted(body=_body(api), break_after=3, break_with="endless_line"))
    with pytest.raises(ProviderResponseError) as raised:
        await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())
    said = str(raised.value)
    assert "cannot read (a line of its stream over 1 MiB) after 2 attempts" in said, said
    assert len(api.requests) == 2


@pytest.mark.parametrize("codings", ["gzip", "gzip, gzip"])
async def test_a_gzipped_line_without_end_is_cut_at_the_bound_too(
    provider: Pairing, codings: str
) -> None:
    """Anthropic's API (and a compressing proxy) gzips its event stream: the bound was
    left off such a stream, whose lines the raw bytes do not show, so the line was read
    (faster still: it compresses a thousand to one) until the clock ended it. One in two
    codings was left to httpx, unbounded, after that was fixed for one."""
    model, api = provider(timeout_s=2.0)  # what ends it unbounded: a stall of events
    for _ in range(2):
        api.enqueue(Scripted(body=_body(api), break_after=3, break_with="endless_line", encoding=codings))  # fmt: skip
    with pytest.raises(ProviderResponseError) as raised:
        await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())
    said = str(raised.value)
    assert "cannot read (a line of its stream over 1 MiB) after 2 attempts" in said, said


async def test_a_gzipped_stream_reads_as_before(provider: Pairing) -> None:
    """Decoded here, not by httpx: the same reply, read whole."""
    model, api = provider(limit=1 << 16)
    answer = ("healthy" * 14 + " ") * 700
    api.enqueue(Scripted(body=_body(api, answer), encoding="gzip"))
    reply = await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())
    assert reply.text == answer


async def test_a_whole_stream_of_many_lines_is_not_bounded_by_its_size(
    provider: Pairing,
) -> None:
    """The bound is on one line: a reply longer than it in all is read as before."""
    model, api = provider(limit=1 << 16)
    answer = ("healthy" * 14 + " ") * 700  # 70 KB in 700 events
    api.reply(answer)
    reply = await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())
    assert reply.text == answer


@pytest.mark.parametrize("status", [200, 500])
async def test_a_body_that_is_no_stream_is_bounded_whole(provider: Pairing, status: int) -> None:
    """A reply without streaming, or an error's body, is read whole by the SDK. An error
    is told by its status, its body past the bound not read (its words are not told)."""
    model, api = provider()
    for _ in range(2):
        api.raw(status, "x" * (2 * LIMIT), content_type="application/json")
    with pytest.raises(ProviderError) as raised:
        await model.complete(system=SYSTEM, messages=ASK, tools=[])
    said = str(raised.value)
    told = "cannot read (a body over 1 MiB)" if status == 200 else "had a server error (500)"
    assert f"{told} after 2 attempts" in said and "xxx" not in said, said


async def test_an_errors_body_is_bounded_whole_even_as_an_event_stream(provider: Pairing) -> None:
    """The SDKs read an error's body whole, whatever its type: one typed as an event
    stream was bounded line by line, so a body of endless short lines was read unbounded."""
    model, api = provider()
    for _ in range(2):
        api.raw(500, "data: x\n\n" * (LIMIT // 4), content_type="text/event-stream")
    with pytest.raises(ProviderError) as raised:
        await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())
    said = str(raised.value)
    assert "had a server error (500) after 2 attempts" in said and "data:" not in said, said


def _body(api: FakeAnthropic | FakeOpenAI, text: str = "the api is") -> object:
    if isinstance(api, FakeAnthropic):
        return api.message(text)
    return api.completion(text)


async def test_a_stream_line_is_bounded_tighter_than_a_body(provider: Pairing) -> None:
    """At the default ``read_limit`` (32 MiB, a whole body's bound), one line of a stream
    was read up to 32 MiB too: through the Anthropic SDK, whose line buffer copies itself
    as it grows, 12 s of the event loop's CPU an attempt. A stream's line is bounded at
    8 MiB, above any one event an answer at the largest output limit makes."""
    model, api = provider(limit=READ_LIMIT)
    for _ in range(2):
        api.enqueue(Scripted(body=_body(api), break_after=3, break_with="endless_line"))
    with pytest.raises(ProviderResponseError) as raised:
        await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())
    said = str(raised.value)
    assert "(a line of its stream over 8 MiB)" in said, said


async def _ask(model: AnthropicModel | OpenAIModel, *, streamed: bool) -> str:
    if streamed:
        reply = await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())
    else:
        reply = await model.complete(system=SYSTEM, messages=ASK, tools=[])
    return reply.text


def _padded(api: FakeAnthropic | FakeOpenAI, *, status: int = 200) -> str:
    """A reply (or an error's body) of valid JSON that is 4 MiB of spaces: 4 KB in gzip."""
    body = _body(api) if status == 200 else api.error_body(status, "overloaded")
    return json.dumps(body) + " " * (4 << 20)


@pytest.mark.parametrize("codings", ["gzip", "deflate", "gzip, gzip"])
@pytest.mark.parametrize("status", [200, 500])
async def test_a_compressed_body_is_bounded_as_decoded_not_as_sent(
    provider: Pairing, codings: str, status: int
) -> None:
    model, api = provider(timeout_s=2.0)
    for _ in range(2):
        api.enqueue(Scripted(status, text=_padded(api, status=status), content_type="application/json", encoding=codings))  # fmt: skip
    with pytest.raises(ProviderError) as raised:
        await model.complete(system=SYSTEM, messages=ASK, tools=[])
    said = str(raised.value)
    told = "cannot read (a body over 1 MiB)" if status == 200 else "had a server error (500)"
    assert f"{told} after 2 attempts" in said and "overloaded" not in said, said


@pytest.mark.parametrize("codings", ["gzip", "x-gzip", "deflate", "gzip, deflate", "identity"])
@pytest.mark.parametrize("streamed", [True, False], ids=["streamed", "whole"])
async def test_a_compressed_reply_within_the_bound_reads_as_before(
    provider: Pairing, codings: str, streamed: bool
) -> None:
    model, api = provider()
    answer = ("healthy" * 14 + " ") * 700  # 70 KB
    api.enqueue(Scripted(body=_body(api, answer), encoding=codings))
    assert await _ask(model, streamed=streamed) == answer


@pytest.mark.parametrize("coding", ["br", "zstd"])
@pytest.mark.parametrize("streamed", [True, False], ids=["streamed", "whole"])
async def test_a_body_in_a_compression_signoff_did_not_ask_for_is_not_read(
    provider: Pairing, coding: str, streamed: bool
) -> None:
    """httpx decodes br and zstd when their libraries are installed, unbounded; without
    them it hands the body on as sent. Was (streamed): a line without end read until the
    stall timeout; (whole) a body told as "not whole JSON"."""
    model, api = provider(timeout_s=2.0)
    for _ in range(2):
        api.enqueue(Scripted(body=_body(api), break_after=3, break_with="endless_line", garbled_encoding=coding))  # fmt: skip
    with pytest.raises(ProviderResponseError) as raised:
        await _ask(model, streamed=streamed)
    said = str(raised.value)
    assert f"cannot read (a body in {coding}, which signoff does not ask for) after 2" in said, said


async def test_the_clients_ask_for_the_codings_signoff_decodes(provider: Pairing) -> None:
    """httpx asks for br and zstd too once their libraries are installed (a dependency of
    another package may bring them): signoff would then refuse every answer so sent."""
    model, api = provider()
    api.enqueue(Scripted(body=_body(api)))
    await model.complete(system=SYSTEM, messages=ASK, tools=[])
    assert api.requests[0].headers["accept-encoding"] == "gzip, deflate"


async def test_a_coding_no_one_knows_is_read_as_sent(provider: Pairing) -> None:
    """As httpx reads it: a server that labels its JSON ``utf-8`` is answered still."""
    model, api = provider()
    api.enqueue(Scripted(body=_body(api, "up"), garbled_encoding="utf-8"))
    assert (await model.complete(system=SYSTEM, messages=ASK, tools=[])).text == "up"
