"""Every retry of a model call is in its session's trace (provider, reason, attempt, wait),
so ``signoff trace``, ``/signoff trace`` and ``signoff show`` of a slow turn say why it was
slow. Before, retries reached the live view, the logs and ``signoff_model_retries_total``,
and a turn whose provider answered 529 three times read in its trace like any other.

A retry is written as a ``model_error`` event carrying a ``retry`` object: a kind every
version since the trace had kinds reads (a new kind would make an older version's
``signoff trace`` refuse the whole session as "not a trace event" after a rollback)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from fake_anthropic import FakeAnthropic, ToolUse
from fake_openai import Call, FakeOpenAI
from providers_testkit import ANTHROPIC_KEY, OPENAI_KEY, SleepRecorder, fast, retrying_claude

from agent_core.engine import Engine
from agent_core.model import Model
from agent_core.providers import OpenAIModel
from bot.trace_view import render_history
from sessions import Home, SessionFiles, SessionState

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from engine_support import EngineFactory, chain, message

# The trace's kinds as versions back to 2026-12-04 (the oldest a rollback may reach)
# validate them: a kind outside this list makes their ``read_trace`` fail.
OLDER_READERS_KINDS = {
    "session_started",
    "session_ended",
    "message",
    "model_turn",
    "model_error",
    "tool_started",
    "tool_finished",
    "tool_rejected",
    "approval_requested",
    "decision_applied",
    "approved_call_refused",
    "approved_call_deferred",
    "reply_queued",
    "reply_failed",
}


def _retries(home: Home, session_id: str) -> list[dict[str, Any]]:
    events = SessionFiles(home.session_dir(session_id)).read_trace()
    assert {e.kind for e in events} <= OLDER_READERS_KINDS
    return [e.detail["retry"] for e in events if "retry" in e.detail]


async def test_a_turn_whose_provider_answered_529_three_times_says_so_in_its_trace(
    anthropic_api: FakeAnthropic, make_engine: EngineFactory, home: Home, sleeps: SleepRecorder
) -> None:
    for _ in range(3):
        anthropic_api.error(529)
    anthropic_api.reply("all good")
    engine = await make_engine(model=retrying_claude(anthropic_api.base_url, sleeps))
    await engine.ingest(message("how is api?", ts="1700000000.000100"))
    await engine.idle()
    [session] = chain(home)
    assert session.state is SessionState.COMPLETED
    retries = _retries(home, session.id)
    assert [(r["provider"], r["reason"], r["attempt"], r["attempts"]) for r in retries] == [
        ("anthropic", "529 overloaded_error", n, 4) for n in (1, 2, 3)
    ]
    assert [r["wait_s"] for r in retries] == sleeps.calls  # the waits it then took
    shown = render_history(await engine.history(session.id))
    assert shown.count("529 overloaded_error") == 3, shown
    assert "attempt 3 of 4" in shown


async def test_retries_of_a_call_the_turn_makes_itself_are_in_its_trace(
    openai_api: FakeOpenAI, make_engine: EngineFactory, home: Home, sleeps: SleepRecorder
) -> None:
    # The first call answers with an ungated call; the turn asks again with its result.
    openai_api.reply("Checking.", tool_calls=[Call("service_status", {"service": "api"})])
    openai_api.error(503)
    openai_api.reply("api is healthy")
    model = OpenAIModel(
        "gpt-4o", api_key=OPENAI_KEY, base_url=openai_api.base_url, settings=fast(), sleep=sleeps
    )
    engine = await make_engine(model=model)
    await engine.ingest(message("how is api?", ts="1700000000.000100"))
    await engine.idle()
    assert len(openai_api.requests) == 3
    [session] = chain(home)
    [retry] = _retries(home, session.id)
    assert (retry["provider"], retry["attempt"], retry["wait_s"]) == ("openai", 1, sleeps.calls[0])
    assert retry["reason"].startswith("503")


async def test_a_call_that_gives_up_keeps_each_retry_before_its_error(
    anthropic_api: FakeAnthropic, make_engine: EngineFactory, home: Home, sleeps: SleepRecorder
) -> None:
    for _ in range(4):
        anthropic_api.error(529)
    anthropic_api.reply("Checking.", ToolUse("service_status", {"service": "api"}))
    engine = await make_engine(model=retrying_claude(anthropic_api.base_url, sleeps))
    await engine.ingest(message("how is api?", ts="1700000000.000100"))
    await engine.idle()
    [session] = chain(home)
    assert session.state is SessionState.FAILED
    events = SessionFiles(home.session_dir(session.id)).read_trace()
    errors = [e.detail for e in events if e.kind == "model_error"]
    assert [e["retry"]["attempt"] for e in errors[:-1]] == [1, 2, 3]
    assert "retry" not in errors[-1] and "529" in errors[-1]["error"]


async def _asked(make_engine: EngineFactory, model: Model, home: Home) -> tuple[Engine, Any]:
    """An engine on ``model`` once asked how api is, and the session that answered."""
    engine = await make_engine(model=model)
    await engine.ingest(message("how is api?", ts="1700000000.000100"))
    await engine.idle()
    [session] = chain(home)
    return engine, session


async def test_each_retry_names_the_request_id_its_provider_sent(
    anthropic_api: FakeAnthropic, make_engine: EngineFactory, home: Home, sleeps: SleepRecorder
) -> None:
    """Only the final error named the provider's request id, which its support asks for:
    an operator chasing an incident needs each attempt's, where the provider sent one
    (a 529 up front; a stream that broke after its 200; none for a socket that never got
    headers)."""
    anthropic_api.error(529, headers={"request-id": "req_first_529"})
    anthropic_api.reply("cut", break_after=2, headers={"request-id": "req_error_event"})
    anthropic_api.reply(
        "cut", break_after=2, break_with="drop", headers={"request-id": "req_dropped"}
    )
    anthropic_api.reply("all good")
    engine, session = await _asked(make_engine, retrying_claude(anthropic_api.base_url, sleeps), home)  # fmt: skip
    assert session.state is SessionState.COMPLETED
    retries = _retries(home, session.id)
    ids = ["req_first_529", "req_error_event", "req_dropped"]
    assert [r.get("request_id") for r in retries] == ids
    events = SessionFiles(home.session_dir(session.id)).read_trace()
    said = [e.detail["error"] for e in events if "retry" in e.detail]
    assert all(f"request-id {r['request_id']}" in s for r, s in zip(retries, said, strict=True))
    shown = render_history(await engine.history(session.id))
    assert all(f"request-id {i}" in shown for i in ids), shown


async def test_an_openai_retry_names_its_x_request_id(
    openai_api: FakeOpenAI, make_engine: EngineFactory, home: Home, sleeps: SleepRecorder
) -> None:
    openai_api.error(429, headers={"x-request-id": "req_openai_429", "retry-after-ms": "10"})
    openai_api.reply("api is healthy")
    model = OpenAIModel(
        "gpt-4o", api_key=OPENAI_KEY, base_url=openai_api.base_url, settings=fast(), sleep=sleeps
    )
    _, session = await _asked(make_engine, model, home)
    [retry] = _retries(home, session.id)
    assert (retry["reason"], retry["request_id"]) == ("429 requests", "req_openai_429")


async def test_a_retrys_request_id_that_echoes_the_key_is_scrubbed_in_the_trace(
    anthropic_api: FakeAnthropic, make_engine: EngineFactory, home: Home, sleeps: SleepRecorder
) -> None:
    """A gateway may hand the key back as the request id: the retry's is scrubbed as the
    final error's is, so the trace never holds the key."""
    anthropic_api.error(529, headers={"request-id": f"req-{ANTHROPIC_KEY}"})
    anthropic_api.reply("all good")
    _, session = await _asked(make_engine, retrying_claude(anthropic_api.base_url, sleeps), home)
    [retry] = _retries(home, session.id)
    assert retry["request_id"] == "req-[redacted]"
    stored = b"".join(
        p.read_bytes() for p in home.session_dir(session.id).rglob("*") if p.is_file()
    )
    assert ANTHROPIC_KEY.encode() not in stored
