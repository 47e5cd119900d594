"""Hostile and broken model replies, on the wire, through a real engine turn: what is
recorded, what the model is told next, what the thread and the trace show."""

from __future__ import annotations

import json
from typing import Any

import pytest
from engine_support import EngineFactory, chain, message, replies, restarts, transcript
from fake_anthropic import FakeAnthropic, ToolUse
from fake_openai import FakeOpenAI
from providers_testkit import ANTHROPIC_KEY, OPENAI_KEY, fast

from agent_core.history import thread_history
from agent_core.messages import AssistantMessage, ToolResultMessage
from agent_core.parsing import MAX_ARGUMENT_BYTES
from agent_core.providers import AnthropicModel, OpenAIModel
from agent_core.surface import RecordingSurface
from bot.trace_view import render_history, render_session_list
from sessions import Home, SessionState

ANSWER = "Do not restart api now: the database under it is migrating and would be corrupted."


def claude(api: FakeAnthropic) -> AnthropicModel:
    return AnthropicModel(
        "claude-sonnet-4-6", api_key=ANTHROPIC_KEY, base_url=api.base_url, settings=fast()
    )


def gpt(api: FakeOpenAI) -> OpenAIModel:
    return OpenAIModel("gpt-4o", api_key=OPENAI_KEY, base_url=api.base_url, settings=fast())


def results(home: Home) -> list[ToolResultMessage]:
    return [m for m in transcript(home) if isinstance(m, ToolResultMessage)]


def tool_results(body: Any) -> list[dict[str, Any]]:
    """Every tool_result block of an Anthropic request, in order."""
    return [
        block
        for msg in body["messages"]
        if isinstance(msg["content"], list)
        for block in msg["content"]
        if block.get("type") == "tool_result"
    ]


async def test_a_stream_cut_short_never_posts_half_an_answer(
    openai_api: FakeOpenAI, make_engine: EngineFactory, home: Home, surface: RecordingSurface
) -> None:
    openai_api.reply(ANSWER, break_after=4, break_with="eof")
    openai_api.reply(ANSWER)
    engine = await make_engine(model=gpt(openai_api))
    await engine.ingest(message("should I restart api?", ts="1700000000.000100"))
    await engine.idle()
    assert replies(surface) == [ANSWER]
    assert chain(home)[-1].state == SessionState.COMPLETED


async def test_one_call_id_twice_in_a_turn_each_gated_call_gets_its_own_outcome(
    anthropic_api: FakeAnthropic, make_engine: EngineFactory, home: Home, surface: RecordingSurface
) -> None:
    anthropic_api.reply(
        "Restarting both.",
        ToolUse("restart_service", {"service": "api"}, id="toolu_dup"),
        ToolUse("restart_service", {"service": "web"}, id="toolu_dup"),
    )
    anthropic_api.reply("Both restarted.")
    engine = await make_engine(model=claude(anthropic_api))
    await engine.ingest(message("restart api and web", ts="1700000000.000100"))
    await engine.idle()
    assert [c.arguments for c in surface.cards] == [{"service": "api"}, {"service": "web"}]
    for card in surface.cards:
        await engine.decide(card.id, user="U0BOB", approve=True)
        await engine.idle()
    assert (restarts(home, "api"), restarts(home, "web")) == (1, 1)
    # What the model is told for its two calls: one result each, the web call's about web.
    told = tool_results(anthropic_api.requests[-1].body)
    services = [json.loads(block["content"])["service"] for block in told]
    assert services == ["api", "web"]


async def test_a_call_id_reused_in_a_later_turn_gets_its_outcome_in_its_slot(
    anthropic_api: FakeAnthropic, make_engine: EngineFactory, home: Home, surface: RecordingSurface
) -> None:
    anthropic_api.reply("Checking.", ToolUse("service_status", {"service": "api"}, id="toolu_1"))
    anthropic_api.reply("Restarting.", ToolUse("restart_service", {"service": "api"}, id="toolu_1"))
    anthropic_api.reply("Restarted.")
    engine = await make_engine(model=claude(anthropic_api))
    await engine.ingest(message("restart api if it is slow", ts="1700000000.000100"))
    await engine.idle()
    await engine.decide(surface.cards[0].id, user="U0BOB", approve=True)
    await engine.idle()
    assert restarts(home) == 1
    told = tool_results(anthropic_api.requests[-1].body)
    assert len(told) == 2
    assert '"action": "restart"' in told[1]["content"]  # not "(no result was recorded …)"
    assert not told[1].get("is_error")


async def test_oversized_object_arguments_are_refused_like_oversized_strings(
    anthropic_api: FakeAnthropic, make_engine: EngineFactory, home: Home, surface: RecordingSurface
) -> None:
    """Anthropic sends arguments as an object, OpenAI as a string: the size cap is the same."""
    big = {"service": "a" * (MAX_ARGUMENT_BYTES + 10)}
    anthropic_api.reply(ToolUse("restart_service", big, id="toolu_big"))
    anthropic_api.reply("Sorry, too big.")
    # An output limit the call fits in (about 4 characters a token): under the default
    # 1024 of fast(), signoff cuts a reply this long off as one that ignored its limit.
    roomy = AnthropicModel("claude-sonnet-4-6", api_key=ANTHROPIC_KEY, base_url=anthropic_api.base_url, settings=fast(max_tokens=100_000))  # fmt: skip
    engine = await make_engine(model=roomy)
    await engine.ingest(message("restart api", ts="1700000000.000100"))
    await engine.idle()
    assert surface.cards == []
    [result] = results(home)
    assert result.status == "error"
    assert f"over {MAX_ARGUMENT_BYTES} bytes" in result.content


async def test_a_look_alike_of_a_gated_tool_never_runs_and_history_stays_valid(
    anthropic_api: FakeAnthropic, make_engine: EngineFactory, home: Home, surface: RecordingSurface
) -> None:
    anthropic_api.reply(ToolUse("restart_serv\u0456ce", {"service": "api"}, id="toolu_1"))
    anthropic_api.reply("I could not.")
    engine = await make_engine(model=claude(anthropic_api))
    await engine.ingest(message("restart api", ts="1700000000.000100"))
    await engine.idle()
    assert surface.cards == [] and restarts(home) == 0
    [result] = results(home)
    assert result.status == "error" and "unknown tool" in result.content
    assert replies(surface) == ["I could not."]  # the fixture checks the request was valid


async def test_an_empty_reply_is_not_silence(
    anthropic_api: FakeAnthropic, make_engine: EngineFactory, home: Home, surface: RecordingSurface
) -> None:
    anthropic_api.reply(stop_reason="tool_use")  # no content blocks at all
    engine = await make_engine(model=claude(anthropic_api))
    await engine.ingest(message("status of api?", ts="1700000000.000100"))
    await engine.idle()
    assert replies(surface), "the person who asked was told nothing at all"


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
async def test_negative_usage_does_not_shrink_the_budget(
    anthropic_api: FakeAnthropic,
    openai_api: FakeOpenAI,
    make_engine: EngineFactory,
    home: Home,
    provider: str,
) -> None:
    anthropic_api.reply("ok", input_tokens=10, output_tokens=-1_000_000)
    openai_api.reply("ok", prompt_tokens=10, completion_tokens=-1_000_000)
    model = claude(anthropic_api) if provider == "anthropic" else gpt(openai_api)
    engine = await make_engine(model=model)
    await engine.ingest(message("status of api?", ts="1700000000.000100"))
    await engine.idle()
    [reply] = [m for m in transcript(home) if isinstance(m, AssistantMessage)]
    assert reply.usage.output_tokens == 0 and reply.usage.input_tokens == 10


async def test_trace_and_session_list_do_not_pass_terminal_controls_through(
    anthropic_api: FakeAnthropic, make_engine: EngineFactory, home: Home
) -> None:
    """``signoff trace`` / ``signoff sessions`` print what models and providers wrote;
    ``signoff show`` already escapes it."""
    hostile = "\x1b]0;owned\x07\x1b[2J\x9b31m"
    anthropic_api.reply(f"fine{hostile}", model=f"claude{hostile}")
    anthropic_api.error(400, message=f"bad request{hostile}")
    engine = await make_engine(model=claude(anthropic_api))
    await engine.ingest(message("status of api?", ts="1700000000.000100"))
    await engine.idle()
    await engine.ingest(message("and web?", ts="1700000000.000200"))
    await engine.idle()
    sessions = chain(home)
    assert sessions[-1].state == SessionState.FAILED
    rows = [(s.id, s.state.value, s.thread.label(), s.created_at, s.reason) for s in sessions]
    shown = render_history(thread_history(home, sessions[-1].id)) + render_session_list(rows)
    assert "owned" in shown
    assert not {"\x1b", "\x07", "\x9b"} & set(shown)


@pytest.mark.parametrize("where", ["text", "model", "error", "openai text"])
async def test_half_a_surrogate_pair_from_the_provider_ends_the_turn_as_usual(
    anthropic_api: FakeAnthropic,
    openai_api: FakeOpenAI,
    make_engine: EngineFactory,
    home: Home,
    surface: RecordingSurface,
    where: str,
) -> None:
    """JSON may spell half a surrogate pair (``\\ud800``), which no UTF-8 file can hold: the
    record of the reply (or of the error) failed to write, the session stayed running, the
    person heard nothing, and the worker asked the model again and again, each time paid."""
    half = "\ud800"
    if where == "text":
        anthropic_api.reply(f"api is up {half}")
    elif where == "model":
        anthropic_api.reply("api is up", model=f"claude-{half}")
    elif where == "error":
        anthropic_api.error(400, message=f"bad request {half}")
    else:
        openai_api.reply(f"api is up {half}")
    api: FakeAnthropic | FakeOpenAI = openai_api if where == "openai text" else anthropic_api
    engine = await make_engine(
        model=gpt(openai_api) if api is openai_api else claude(anthropic_api)
    )
    await engine.ingest(message("status of api?", ts="1700000000.000100"))
    await engine.idle()
    [session] = chain(home)
    assert session.terminal and len(api.requests) == 1
    [told] = replies(surface)
    assert ("api is up" in told or "bad request \ufffd" in told) and half not in told


@pytest.mark.parametrize(
    ("provider", "stop", "text", "told"),
    [
        ("anthropic", "refusal", "", "(The model refused; it gave no answer.)"),
        ("anthropic", "max_tokens", "", "(The model ran out of output tokens; it gave no answer.)"),
        ("openai", "content_filter", "", "(The model refused; it gave no answer.)"),
        ("anthropic", "max_tokens", "api is", "(The model ran out of output tokens; the answer above may be incomplete.)"),
    ],
)  # fmt: skip
async def test_a_reply_cut_off_before_any_text_is_not_said_to_be_above(
    anthropic_api: FakeAnthropic,
    openai_api: FakeOpenAI,
    make_engine: EngineFactory,
    surface: RecordingSurface,
    provider: str,
    stop: str,
    text: str,
    told: str,
) -> None:
    """With nothing above it in this turn, "the answer above may be incomplete" pointed
    the person at the thread's previous answer, which was whole."""
    anthropic_api.reply(*([text] if text else []), stop_reason=stop)
    openai_api.reply(text or None, finish_reason=stop)
    model = claude(anthropic_api) if provider == "anthropic" else gpt(openai_api)
    engine = await make_engine(model=model)
    await engine.ingest(message("status of api?", ts="1700000000.000100"))
    await engine.idle()
    assert replies(surface) == ([text, told] if text else [told])
