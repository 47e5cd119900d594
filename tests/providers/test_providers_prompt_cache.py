"""Anthropic prompt caching: where a request marks the cache, what a read is billed, and
that the trace, metrics and budgets count it so; through the real SDK to the fake API,
whose ``PromptCache`` answers usage as the API bills it."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fake_anthropic import FakeAnthropic, ToolUse
from fake_openai import FakeOpenAI
from fake_prompt_cache import PromptCache, cache_points, check_cache_points
from prometheus_client.parser import text_string_to_metric_families
from provider_samples import SYSTEM, TOOLS, TRANSCRIPT
from providers_testkit import ANTHROPIC_KEY, OPENAI_KEY, fast, record
from test_providers_history_window import thread

from agent_core.budgets import Budgets
from agent_core.messages import Message, ToolResultMessage, Usage, UserMessage
from agent_core.model import complete_streaming
from agent_core.providers import AnthropicModel, OpenAIModel, Price, PriceTable, cost_usd
from agent_core.surface import RecordingSurface
from bot.metrics import Metrics
from bot.trace_view import render_history
from sessions import Home, SessionFiles, SessionState

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from engine_support import EngineFactory, RecordingSink, chain, message

SONNET_IN = 3.0  # USD per million input tokens of claude-sonnet-4-6 (the built-in table)


def claude(
    api: FakeAnthropic, *, cache: bool = True, history_chars: int = 120_000
) -> AnthropicModel:
    settings = dataclasses.replace(fast(), prompt_cache=cache, history_chars=history_chars)
    return AnthropicModel(
        "claude-sonnet-4-6", api_key=ANTHROPIC_KEY, base_url=api.base_url, settings=settings
    )


@pytest.fixture
async def caching_api() -> AsyncIterator[FakeAnthropic]:
    async with FakeAnthropic(prompt_cache=PromptCache()) as server:
        yield server
    assert server.rejections == []


async def test_a_request_marks_the_system_prompt_and_the_conversations_two_ends(
    anthropic_api: FakeAnthropic,
) -> None:
    anthropic_api.reply("ok").reply("ok")
    model = claude(anthropic_api)
    await model.complete(system=SYSTEM, messages=TRANSCRIPT, tools=TOOLS)
    await model.complete(system="", messages=TRANSCRIPT, tools=TOOLS)
    with_system, without = (r.body for r in anthropic_api.requests)
    # TRANSCRIPT is sent as user, assistant, user (with 5 blocks): the conversation's end,
    # and the end of the one before this call's reply and answer.
    assert cache_points(with_system) == ["system.0", "messages.0.content.0", "messages.2.content.4"]
    assert with_system["system"] == [
        {"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}
    ]
    # Tools come before the system prompt: without one, the last tool holds the mark.
    assert cache_points(without) == ["tools.1", "messages.0.content.0", "messages.2.content.4"]
    assert "system" not in without


async def test_a_long_conversation_never_has_more_than_four_marks(
    anthropic_api: FakeAnthropic,
) -> None:
    conversation: list[Message] = [*thread(6), UserMessage(text="and now?")]
    for end in range(1, len(conversation) + 1):
        anthropic_api.reply("ok")
        await claude(anthropic_api).complete(
            system=SYSTEM, messages=conversation[:end], tools=TOOLS
        )
    for request in anthropic_api.requests:  # the fake refuses over 4, as the API does
        points = cache_points(request.body)
        assert 2 <= len(points) <= 3 and points[0] == "system.0"
        last = len(request.body["messages"]) - 1
        assert (
            points[-1]
            == f"messages.{last}.content.{len(request.body['messages'][-1]['content']) - 1}"
        )
    assert check_cache_points({"tools": [{"cache_control": {"type": "ephemeral"}}] * 5}) == (
        "A maximum of 4 blocks with cache_control may be provided. Found 5."
    )


async def test_with_caching_off_nothing_is_marked(anthropic_api: FakeAnthropic) -> None:
    anthropic_api.reply("ok")
    await claude(anthropic_api, cache=False).complete(
        system=SYSTEM, messages=TRANSCRIPT, tools=TOOLS
    )
    [request] = anthropic_api.requests
    assert cache_points(request.body) == []
    assert request.body["system"] == SYSTEM
    assert "cache_control" not in repr(request.body)


@pytest.mark.parametrize("streamed", [False, True])
async def test_the_next_call_of_a_thread_reads_this_ones_prefix_at_the_read_price(
    caching_api: FakeAnthropic, streamed: bool
) -> None:
    caching_api.reply(ToolUse("get_pods", {"ns": "checkout"}, id="toolu_01P"))
    caching_api.reply("checkout has 3 pods, all ready.", output_tokens=12)
    model = claude(caching_api)

    async def ask(conversation: list[Message]) -> Any:
        if streamed:
            return await model.stream(
                system=SYSTEM, messages=conversation, tools=TOOLS, sink=RecordingSink()
            )
        return await model.complete(system=SYSTEM, messages=conversation, tools=TOOLS)

    conversation: list[Message] = [UserMessage(text="how is checkout? " * 40)]
    first = await ask(conversation)
    assert first.usage.cache_read_tokens == 0
    assert first.usage.cache_write_tokens > 0  # everything it sent, for the next call
    sent_first = first.usage.input_tokens + first.usage.cache_write_tokens
    result = ToolResultMessage(call_id="toolu_01P", name="get_pods", content="checkout-1 Running")
    conversation += [record(first), result]
    second = await ask(conversation)
    # All the first call sent is read; only its reply and the result are written.
    assert second.usage.cache_read_tokens == sent_first
    assert 0 < second.usage.cache_write_tokens < sent_first
    assert second.usage.input_tokens == 0
    u = second.usage
    assert cost_usd(second.model, u) == pytest.approx(
        (u.cache_read_tokens * SONNET_IN * 0.1 + u.cache_write_tokens * SONNET_IN * 1.25
         + u.output_tokens * 15.0) / 1e6
    )  # fmt: skip
    # Priced as input, the same call would cost several times as much.
    as_input = Usage(input_tokens=u.total - u.output_tokens, output_tokens=u.output_tokens)
    assert (cost_usd(second.model, as_input) or 0.0) > 2 * (cost_usd(second.model, u) or 1.0)


async def test_a_reply_of_many_tool_calls_still_reads_the_call_before_it(
    caching_api: FakeAnthropic,
) -> None:
    # The API looks back at most 20 blocks from a mark for an earlier write: twelve calls
    # and their results are 24. The mark at the end of the previous call's conversation
    # is found all the same.
    pods = [ToolUse("get_pods", {"ns": f"ns{n}"}, id=f"toolu_{n:02d}") for n in range(12)]
    caching_api.reply(*pods).reply("all namespaces are fine.")
    model = claude(caching_api)
    conversation: list[Message] = [UserMessage(text="check every namespace " * 20)]
    first = await model.complete(system=SYSTEM, messages=conversation, tools=TOOLS)
    results = [
        ToolResultMessage(call_id=f"toolu_{n:02d}", name="get_pods", content="ok")
        for n in range(12)
    ]
    conversation += [record(first), *results]
    second = await model.complete(system=SYSTEM, messages=conversation, tools=TOOLS)
    assert (
        second.usage.cache_read_tokens == first.usage.input_tokens + first.usage.cache_write_tokens
    )


def test_between_window_cuts_each_call_reads_all_the_call_before_it_sent() -> None:
    # The window cuts the front of a long thread a quarter of its limit at a time; between
    # cuts the start of what is sent stays put, so the marks keep being read.
    model = claude(FakeAnthropic(), history_chars=12_000)  # request() sends nothing
    cache = PromptCache()
    full = thread(140)
    starts: list[str] = []
    reads_all = 0
    previous = 0
    # A call is made after each question and after each tool result (turns 100 to 139).
    for end in range(400, len(full)):
        if not isinstance(full[end], UserMessage | ToolResultMessage):
            continue
        body = model.request(system=SYSTEM, messages=full[: end + 1], tools=TOOLS)
        usage = cache.usage(body)
        start = body["messages"][0]["content"][0]["text"]  # the window's note
        if not starts:
            assert usage["cache_read_input_tokens"] == 0
        elif start == starts[-1]:
            assert usage["cache_read_input_tokens"] == previous, end
            reads_all += 1
        else:  # a cut: only the tools and the system prompt are read
            assert 0 < usage["cache_read_input_tokens"] < previous // 4, end
        starts.append(start)
        previous = sum(usage.values())
    assert len(starts) == 80
    assert len(set(starts)) < 10  # a cut every ~9 questions, not every call
    assert reads_all == 80 - len(set(starts))  # the first call, and one after each cut


async def test_the_trace_metrics_and_budget_count_the_cache_as_billed(
    caching_api: FakeAnthropic,
    make_engine: EngineFactory,
    home: Home,
    surface: RecordingSurface,
) -> None:
    caching_api.reply(ToolUse("service_status", {"service": "api"}, id="toolu_01S"))
    caching_api.reply("api is healthy.")
    metrics = Metrics()
    engine = await make_engine(
        model=claude(caching_api),
        observer=metrics,
        cost=lambda model, usage: cost_usd(model, usage),
        budgets=Budgets(max_usd=1.0),
    )
    await engine.ingest(message("how is api? " * 30, ts="1700000000.000100"))
    await engine.idle()
    [session] = chain(home)
    assert session.state == SessionState.COMPLETED
    turns = [
        e.detail
        for e in SessionFiles(home.session_dir(session.id)).read_trace()
        if e.kind == "model_turn"
    ]
    assert len(turns) == 2
    first, second = (Usage(**t["usage"]) for t in turns)
    assert first.cache_read_tokens == 0 and first.cache_write_tokens > 0
    assert second.cache_read_tokens == first.input_tokens + first.cache_write_tokens
    model = "claude-sonnet-4-6"
    usd = (cost_usd(model, first) or 0) + (cost_usd(model, second) or 0)
    assert turns[1]["session_usd"] == pytest.approx(usd, abs=1e-6)  # what the USD budget sees
    assert turns[1]["session_tokens"] == first.total + second.total  # and the token budget
    got = {
        (s.name, s.labels.get("direction", "")): s.value
        for family in text_string_to_metric_families((await metrics.render()).decode())
        for s in family.samples
        if s.name in ("signoff_model_tokens_total", "signoff_model_cost_usd_total")
    }
    assert got[("signoff_model_tokens_total", "cache_read")] == second.cache_read_tokens
    assert got[("signoff_model_tokens_total", "cache_write")] == (
        first.cache_write_tokens + second.cache_write_tokens
    )
    assert (
        got[("signoff_model_tokens_total", "output")] == first.output_tokens + second.output_tokens
    )
    assert got[("signoff_model_cost_usd_total", "")] == pytest.approx(usd)
    # `signoff trace` counts every token too, and says what the cache served.
    shown = render_history(await engine.history(session.id))
    assert f"  {first.total + second.total} tokens" in shown
    read_in = second.input_tokens + second.cache_write_tokens + second.cache_read_tokens
    assert f"({read_in}→{second.output_tokens} tok, {second.cache_read_tokens} from cache," in shown


async def test_openai_requests_and_usage_are_as_before(openai_api: FakeOpenAI) -> None:
    openai_api.reply("ok")
    model = OpenAIModel("gpt-4o", api_key=OPENAI_KEY, base_url=openai_api.base_url, settings=fast())
    reply = await model.complete(system=SYSTEM, messages=TRANSCRIPT, tools=TOOLS)
    [request] = openai_api.requests
    assert "cache_control" not in repr(request.body)
    assert request.body["messages"][0] == {"role": "system", "content": SYSTEM}
    assert reply.usage.cache_read_tokens == reply.usage.cache_write_tokens == 0
    # Stored as before there were cache counts: an older signoff still reads it.
    assert set(record(reply).model_dump(mode="json")["usage"]) == {"input_tokens", "output_tokens"}


@pytest.mark.parametrize("streamed", [False, True])
async def test_openai_cached_prompt_tokens_count_once_at_openais_cached_input_price(
    openai_api: FakeOpenAI, streamed: bool
) -> None:
    # OpenAI's prompt_tokens include the cached ones, reported apart in its details.
    openai_api.reply("ok", prompt_tokens=2000, cached_tokens=1536, completion_tokens=20)
    model = OpenAIModel("gpt-4o", api_key=OPENAI_KEY, base_url=openai_api.base_url, settings=fast())
    if streamed:
        reply = await complete_streaming(
            model, system=SYSTEM, messages=TRANSCRIPT, tools=TOOLS, sink=RecordingSink()
        )
    else:
        reply = await model.complete(system=SYSTEM, messages=TRANSCRIPT, tools=TOOLS)
    u = reply.usage
    assert (u.input_tokens, u.cache_read_tokens, u.output_tokens) == (464, 1536, 20)
    assert u.total == 2020  # each token once: the token budget sees what was read
    # gpt-4o: $2.50 input, $1.25 cached input, $10 output per million tokens.
    assert cost_usd(reply.model, u) == pytest.approx((464 * 2.5 + 1536 * 1.25 + 20 * 10) / 1e6)


def test_a_model_the_table_gives_no_cache_read_price_is_never_billed_below_its_input() -> None:
    """Anthropic's documented 0.1x read price is assumed for Claude models only: any other
    model's cached tokens cost its input price unless the table says otherwise."""
    table = PriceTable(
        {
            "my-local": Price(1.0, 2.0),
            "claude-x": Price(3.0, 15.0),
            "cheap": Price(1.0, 2.0, None, 0.5),
        }
    )
    u = Usage(input_tokens=100, cache_read_tokens=900)
    assert table.cost_usd("my-local", u) == pytest.approx(1000 * 1.0 / 1e6)
    assert table.cost_usd("openai:my-local", u) == pytest.approx(1000 * 1.0 / 1e6)
    assert table.cost_usd("claude-x", u) == pytest.approx((100 * 3.0 + 900 * 0.3) / 1e6)
    assert table.cost_usd("cheap", u) == pytest.approx((100 * 1.0 + 900 * 0.5) / 1e6)


async def test_openai_cached_tokens_above_the_prompt_count_no_more_than_the_prompt(
    openai_api: FakeOpenAI,
) -> None:
    """A compatible server that reports more cached tokens than its prompt: what it read is
    the prompt, never a negative input (budgets add the counts, metrics count them up)."""
    openai_api.reply("ok", prompt_tokens=100, cached_tokens=150, completion_tokens=5)
    model = OpenAIModel("gpt-4o", api_key=OPENAI_KEY, base_url=openai_api.base_url, settings=fast())
    reply = await model.complete(system=SYSTEM, messages=TRANSCRIPT, tools=TOOLS)
    u = reply.usage
    assert (u.input_tokens, u.cache_read_tokens, u.total) == (0, 100, 105)
