"""Every malformed model output in the corpus goes through a real engine turn.

None may raise out of the engine; each ends as a readable error result, a repaired call
that reaches the gate (a capsule, never an execution), or a validation error. Arguments
the parser can read only by closing them were cut off: they never reach the gate.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from engine_support import EngineFactory, chain, message, restarts, text, transcript

from agent_core.demo_fleet import demo_registry
from agent_core.messages import ToolResultMessage
from agent_core.model import ModelReply, RawToolCall
from agent_core.parsing import ends_early
from agent_core.scripted import ScriptedModel
from agent_core.surface import RecordingSurface
from sessions import Home

CORPUS = json.loads((Path(__file__).parent / "agent_core" / "malformed_corpus.json").read_text())

# Whole replies that are broken in ways the arguments corpus does not cover.
BROKEN_REPLIES: list[tuple[str, ModelReply]] = [
    ("empty tool name", ModelReply(tool_calls=(RawToolCall(id="c", name="", arguments="{}"),))),
    ("name with spaces", ModelReply(tool_calls=(RawToolCall(id="c", name=" restart service ", arguments="{}"),))),
    ("quoted name", ModelReply(tool_calls=(RawToolCall(id="c", name='"restart_service"', arguments='{"service":"api"}'),))),
    ("path-like name", ModelReply(tool_calls=(RawToolCall(id="c", name="../../bin/sh", arguments="{}"),))),
    ("empty call id", ModelReply(tool_calls=(RawToolCall(id="", name="service_status", arguments='{"service":"api"}'),))),
    ("duplicate call ids", ModelReply(tool_calls=(
        RawToolCall(id="dup", name="service_status", arguments='{"service":"api"}'),
        RawToolCall(id="dup", name="service_status", arguments='{"service":"web"}'),
    ))),
    ("unknown service", ModelReply(tool_calls=(RawToolCall(id="c", name="service_status", arguments='{"service":"mainframe"}'),))),
    ("huge text", ModelReply(text="x" * 200_000, stop_reason="max_tokens")),
    ("refusal", ModelReply(text="", stop_reason="refusal")),
    ("tool_use without calls", ModelReply(text="", stop_reason="tool_use")),
]  # fmt: skip


def _valid_for_restart(arguments: dict[str, Any]) -> bool:
    restart = demo_registry().get("restart_service")
    assert restart is not None
    try:
        restart.validate(arguments)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("case", CORPUS, ids=[c["name"] for c in CORPUS])
async def test_corpus_case_through_the_engine(
    make_engine: EngineFactory, home: Home, surface: RecordingSurface, case: dict[str, Any]
) -> None:
    reply = ModelReply(
        tool_calls=(RawToolCall(id="c1", name="restart_service", arguments=case["raw"]),),
        stop_reason="tool_use",
    )
    engine = await make_engine(model=ScriptedModel([reply, text("understood")]))
    await engine.ingest(message("do it", ts="1700000000.000100"))
    await engine.idle()
    assert list(engine.errors) == []
    assert all(s.terminal for s in chain(home))
    assert restarts(home) == 0
    results = [m for m in transcript(home) if isinstance(m, ToolResultMessage)]
    if case["expect"] == "error":
        assert len(results) == 1
        assert results[0].status == "error"
        assert case["error_contains"] in results[0].content
    elif ends_early(case["raw"]):
        assert surface.cards == []
        assert results[0].status == "error" and "JSON ends early" in results[0].content
    elif _valid_for_restart(case["arguments"]):
        assert [c.arguments for c in surface.cards] == [case["arguments"]]
    else:
        assert surface.cards == []
        assert results[0].status == "error"
        assert "invalid arguments for restart_service" in results[0].content


@pytest.mark.parametrize(("name", "reply"), BROKEN_REPLIES, ids=[n for n, _ in BROKEN_REPLIES])
async def test_broken_replies_through_the_engine(
    make_engine: EngineFactory, home: Home, name: str, reply: ModelReply
) -> None:
    engine = await make_engine(model=ScriptedModel([reply, text("ok")]))
    await engine.ingest(message("go", ts="1700000000.000100"))
    await engine.idle()
    assert list(engine.errors) == []
    assert all(s.terminal for s in chain(home))
    assert restarts(home) == 0
    for result in (m for m in transcript(home) if isinstance(m, ToolResultMessage)):
        assert result.content  # every failure leaves a message in the saved transcript


def test_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 30
    assert {c["expect"] for c in CORPUS} == {"ok", "repaired", "error"}
