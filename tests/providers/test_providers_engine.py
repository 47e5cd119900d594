"""Real providers inside the engine: park, approve, finish in a child — on the wire."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from fake_anthropic import FakeAnthropic, ToolUse
from fake_openai import Call, FakeOpenAI
from providers_testkit import ANTHROPIC_KEY, OPENAI_KEY, fast

from agent_core.messages import ToolResultMessage
from agent_core.providers import AnthropicModel, OpenAIModel
from agent_core.surface import RecordingSurface
from approvals import Decided
from sessions import Home, SessionState

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from engine_support import EngineFactory, chain, message, replies, restarts, transcript


def claude(api: FakeAnthropic) -> AnthropicModel:
    return AnthropicModel(
        "claude-sonnet-4-6", api_key=ANTHROPIC_KEY, base_url=api.base_url, settings=fast()
    )


def gpt(api: FakeOpenAI) -> OpenAIModel:
    return OpenAIModel("gpt-4o", api_key=OPENAI_KEY, base_url=api.base_url, settings=fast())


async def test_anthropic_gated_conversation_parks_is_approved_and_finishes(
    anthropic_api: FakeAnthropic, make_engine: EngineFactory, home: Home, surface: RecordingSurface
) -> None:
    anthropic_api.reply(
        "I'll restart it.", ToolUse("restart_service", {"service": "api"}, id="toolu_01R")
    )
    anthropic_api.reply("Restarted api; it is healthy.")
    engine = await make_engine(model=claude(anthropic_api))
    await engine.ingest(message("restart api please", ts="1700000000.000100"))
    await engine.idle()
    assert chain(home)[-1].state == SessionState.AWAITING_APPROVAL
    assert restarts(home) == 0
    first = anthropic_api.requests[0].body
    assert first["system"]
    assert {t["name"] for t in first["tools"]} >= {"restart_service", "service_status"}
    capsule = surface.cards[0]
    assert capsule.call_id == "toolu_01R"
    assert isinstance(await engine.decide(capsule.id, user="U0BOB", approve=True), Decided)
    await engine.idle()
    assert restarts(home) == 1
    sessions = chain(home)
    assert [s.state for s in sessions] == [SessionState.AWAITING_APPROVAL, SessionState.COMPLETED]
    assert sessions[1].parent_id == sessions[0].id
    second = anthropic_api.requests[1].body["messages"]
    result = second[-1]["content"][0]
    assert result["type"] == "tool_result"
    assert result["tool_use_id"] == "toolu_01R"
    assert "restarts" in json.dumps(result["content"])
    assert replies(surface)[-1] == "Restarted api; it is healthy."
    usage = [m.usage.total for m in transcript(home) if getattr(m, "usage", None)]
    assert sum(usage) == 30  # two replies of 10 in + 5 out, recorded per turn


async def test_openai_gated_conversation_with_malformed_arguments(
    openai_api: FakeOpenAI, make_engine: EngineFactory, home: Home, surface: RecordingSurface
) -> None:
    openai_api.reply(tool_calls=[Call("restart_service", "{'service': 'web',}", id="call_1")])
    openai_api.reply("Restart of web requested; waiting is over.")
    engine = await make_engine(model=gpt(openai_api))
    await engine.ingest(message("restart web", ts="1700000000.000100"))
    await engine.idle()
    capsule = surface.cards[0]
    assert capsule.arguments == {"service": "web"}  # repaired, then gated
    await engine.decide(capsule.id, user="U0BOB", approve=True)
    await engine.idle()
    assert restarts(home, "web") == 1
    tool_message = openai_api.requests[1].body["messages"][-1]
    assert tool_message["role"] == "tool"
    assert tool_message["tool_call_id"] == "call_1"
    assert chain(home)[-1].state == SessionState.COMPLETED


async def test_a_session_started_on_anthropic_resumes_on_openai(
    anthropic_api: FakeAnthropic,
    openai_api: FakeOpenAI,
    make_engine: EngineFactory,
    home: Home,
    surface: RecordingSurface,
) -> None:
    anthropic_api.reply(ToolUse("restart_service", {"service": "db"}, id="toolu_01X"))
    engine = await make_engine(model=claude(anthropic_api))
    await engine.ingest(message("restart db", ts="1700000000.000100"))
    await engine.idle()
    capsule = surface.cards[0]
    await engine.close()
    openai_api.reply("db restarted; replication caught up.")
    engine = await make_engine(model=gpt(openai_api))
    await engine.decide(capsule.id, user="U0BOB", approve=True)
    await engine.idle()
    assert restarts(home, "db") == 1
    sent = openai_api.requests[0].body["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "tool"]
    assert sent[2]["tool_calls"][0]["function"]["name"] == "restart_service"
    assert sent[3]["tool_call_id"] == sent[2]["tool_calls"][0]["id"]
    assert replies(surface)[-1] == "db restarted; replication caught up."


async def test_a_provider_that_stays_down_fails_the_session_cleanly(
    anthropic_api: FakeAnthropic, make_engine: EngineFactory, home: Home, surface: RecordingSurface
) -> None:
    for _ in range(4):
        anthropic_api.error(529)
    engine = await make_engine(model=claude(anthropic_api))
    await engine.ingest(message("status of api", ts="1700000000.000100"))
    await engine.idle()
    last = chain(home)[-1]
    assert last.state == SessionState.FAILED
    assert "overloaded" in last.reason.lower()
    assert "overloaded" in replies(surface)[-1].lower()
    assert ANTHROPIC_KEY not in last.reason
    assert not [m for m in transcript(home) if isinstance(m, ToolResultMessage)]


async def test_usd_budget_ends_the_session(
    anthropic_api: FakeAnthropic, make_engine: EngineFactory, home: Home
) -> None:
    from agent_core.budgets import Budgets
    from agent_core.providers import cost_usd

    for _ in range(5):
        anthropic_api.reply(
            ToolUse("service_status", {"service": "api"}), input_tokens=400_000, output_tokens=10
        )
    engine = await make_engine(
        model=claude(anthropic_api),
        budgets=Budgets(max_usd=1.0, max_tokens=10_000_000),
        cost=lambda m, u: cost_usd(m, u),
    )
    await engine.ingest(message("loop", ts="1700000000.000100"))
    await engine.idle()
    assert "cost budget exhausted" in chain(home)[-1].reason


async def test_a_server_that_reports_no_usage_still_meets_the_token_budget(
    openai_api: FakeOpenAI, make_engine: EngineFactory, home: Home
) -> None:
    """A Chat Completions server that sends no ``usage`` (some local servers ignore
    ``stream_options.include_usage``) left the token budget at 0 forever; signoff now
    counts about 4 characters a token of what it sent and received, and says so."""
    from agent_core.budgets import Budgets

    for _ in range(5):
        openai_api.reply(tool_calls=[Call("service_status", {"service": "api"})], usage=False)
    engine = await make_engine(model=gpt(openai_api), budgets=Budgets(max_tokens=1_000))
    await engine.ingest(message("loop " + "x" * 2_000, ts="1700000000.000100"))
    await engine.idle()
    reason = chain(home)[-1].reason
    assert "token budget exhausted" in reason and "estimated" in reason
    assert len(openai_api.requests) == 1  # the first request alone was over 1,000 tokens
    trace = (home.session_dir(chain(home)[-1].id) / "trace.jsonl").read_text().splitlines()
    [turn] = [e for e in map(json.loads, trace) if e["kind"] == "model_turn"]
    assert turn["data"]["usage_estimated"] is True and turn["data"]["session_tokens"] > 500
