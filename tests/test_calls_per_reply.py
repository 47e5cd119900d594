"""The cap on the tool calls one model reply may make (``SIGNOFF_MAX_CALLS_PER_REPLY``).

A reply of 60 calls ran all 60 (ungated) or posted 60 cards (gated). Calls after the first
N of a reply, counted in its order whatever they are, now never run and ask nobody: each
gets a result telling the model so. The cap holds after a crash between the reply and its
results too, and is a setting validated like the others.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from engine_support import THREAD, EngineFactory, chain, message, text, transcript
from test_live_and_stop import RecordingLive

from agent_core.budgets import Budgets
from agent_core.messages import ToolResultMessage
from agent_core.model import ModelReply, RawToolCall
from agent_core.observe import CallsOverCap, Observer, RecordingObserver
from agent_core.scripted import ScriptedModel
from agent_core.surface import RecordingSurface
from agent_core.tools import ToolContext, ToolRegistry, tool
from bot.config import ConfigError, Settings
from bot.metrics import Metrics
from bot.models import build_budgets
from sessions import Home

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers_proc import (
    cli,
    close_fork_servers,
    describe,
    head_transcript,
    ok,
    pending_ids,
    say_args,
)


@pytest.fixture(scope="module", autouse=True)
def _fork_servers() -> Any:
    yield
    close_fork_servers()


def reply(*calls: tuple[str, dict[str, Any]]) -> ModelReply:
    return ModelReply(
        tool_calls=tuple(
            RawToolCall(id=f"c{n}", name=name, arguments=json.dumps(args))
            for n, (name, args) in enumerate(calls, start=1)
        ),
        stop_reason="tool_use",
    )


def registry(ran: list[str]) -> ToolRegistry:
    @tool()
    def probe(target: str, ctx: ToolContext) -> str:
        """Look at a target.

        Args:
            target: what to look at
        """
        ran.append(target)
        return f"{target} is fine"

    @tool(requires_human_approval=True)
    def reboot(target: str, ctx: ToolContext) -> str:
        """Reboot a target.

        Args:
            target: what to reboot
        """
        ran.append(f"reboot {target}")
        return "rebooted"

    return ToolRegistry([probe, reboot])


def results(home: Home) -> dict[str, ToolResultMessage]:
    return {m.call_id: m for m in transcript(home) if isinstance(m, ToolResultMessage)}


def trace(home: Home) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for record in chain(home):
        path = home.session_dir(record.id) / "trace.jsonl"
        lines += [json.loads(line) for line in path.read_text().splitlines() if line]
    return lines


async def one_turn(
    make_engine: EngineFactory, model: ScriptedModel, ran: list[str], observer: Observer
) -> None:
    """A message answered by ``model`` on an engine whose replies may make 3 calls."""
    engine = await make_engine(
        model=model,
        registry=registry(ran),
        budgets=Budgets(max_calls_per_reply=3),
        observer=observer,
    )
    await engine.ingest(message("look at things", ts="1700000000.000100"))
    await engine.idle()


async def test_ungated_calls_over_the_cap_never_run_and_the_model_is_told(
    make_engine: EngineFactory, home: Home
) -> None:
    ran: list[str] = []
    model = ScriptedModel(
        [reply(*[("probe", {"target": f"t{n}"}) for n in range(1, 6)]), text("ok")]
    )
    metrics = Metrics()
    await one_turn(make_engine, model, ran, metrics)

    assert ran == ["t1", "t2", "t3"]
    told = results(home)
    assert [told[f"c{n}"].status for n in range(1, 6)] == ["ok", "ok", "ok", "error", "error"]
    for over in ("c4", "c5"):
        assert told[over].content.startswith("not run: one reply may make at most 3 tool calls")
    # The model's next call saw every result, the refusals included.
    seen = [m for m in model.calls[1] if isinstance(m, ToolResultMessage)]
    assert [m.call_id for m in seen] == ["c1", "c2", "c3", "c4", "c5"]
    rejected = [e["data"] for e in trace(home) if e["kind"] == "tool_rejected"]
    assert [(d["call_id"], d.get("over_cap")) for d in rejected] == [("c4", 3), ("c5", 3)]
    counted = metrics.registry.get_sample_value(
        "signoff_tool_calls_total", {"tool": "probe", "outcome": "over_cap"}
    )
    assert counted == 2


async def test_the_cap_counts_gated_and_ungated_calls_in_the_reply_s_order(
    make_engine: EngineFactory, home: Home, surface: RecordingSurface
) -> None:
    ran: list[str] = []
    asked = reply(
        ("probe", {"target": "a"}),
        ("reboot", {"target": "g1"}),
        ("probe", {"target": "b"}),
        ("reboot", {"target": "g2"}),
        ("nonesuch", {}),
    )
    observer = RecordingObserver()
    model = ScriptedModel([asked, text("one reboot waits")])
    await one_turn(make_engine, model, ran, observer)

    assert ran == ["a", "b"]
    assert [c.arguments for c in surface.cards] == [{"target": "g1"}]
    told = results(home)
    assert told["c2"].status == "pending"
    for over in ("c4", "c5"):
        assert told[over].status == "error" and "at most 3 tool calls" in told[over].content
    [capped] = [e for e in observer.events if isinstance(e, CallsOverCap)]
    # A name no tool has is counted as "unknown": a metric's labels stay bounded.
    assert capped.tools == ("reboot", "unknown") and capped.cap == 3
    assert capped.session_id and capped.thread == THREAD


def test_a_crash_between_the_reply_and_its_results_keeps_the_cap(tmp_path: Path) -> None:
    """Two requests drained into one turn make one reply of two gated calls; the process
    dies once the reply is recorded. Recovery settles both calls: with a cap of 1, one
    card, and the other is told it was not run (never a second card)."""
    home = tmp_path / "home"
    cap = {"SIGNOFF_MAX_CALLS_PER_REPLY": "1"}
    # Stored, then killed before the turn: it waits in the inbox for the next one.
    first = cli(
        home,
        *say_args("<@U0BOT> restart api", ts="1700000000.000200"),
        failpoint="ingest.after_link",
        env=cap,
    )
    assert first.returncode == -9, describe(first)
    second = cli(
        home,
        *say_args("<@U0BOT> restart web", ts="1700000000.000300"),
        failpoint="loop.after_assistant_recorded",
        env=cap,
    )
    assert second.returncode == -9, describe(second)
    [asked] = [m for m in head_transcript(home) if m.get("role") == "assistant"]
    assert len(asked["tool_calls"]) == 2  # one reply, both calls: the crash came before either

    ok(cli(home, "recover", env=cap))
    ok(cli(home, "recover", env=cap))  # and again: nothing new
    assert len(pending_ids(home)) == 1
    assert len(list((home / "approvals").glob("*/appr_*"))) == 1
    over = [
        m
        for m in head_transcript(home)
        if m.get("role") == "tool" and m["call_id"] == asked["tool_calls"][1]["id"]
    ]
    assert len(over) == 1 and over[0]["content"].startswith("not run: one reply may make at")


def test_the_setting_has_a_default_and_reaches_the_budgets(tmp_path: Path) -> None:
    default = Settings.from_env({"SIGNOFF_HOME": str(tmp_path)})
    assert build_budgets(default).max_calls_per_reply == 16
    assert Budgets().max_calls_per_reply == 16
    set_ = Settings.from_env({"SIGNOFF_HOME": str(tmp_path), "SIGNOFF_MAX_CALLS_PER_REPLY": "4"})
    assert build_budgets(set_).max_calls_per_reply == 4


@pytest.mark.parametrize("value", ["0", "-3", "2.5", "many", "1001"])
def test_a_bad_cap_is_one_line_naming_the_variable(tmp_path: Path, value: str) -> None:
    env = {"SIGNOFF_HOME": str(tmp_path), "SIGNOFF_MAX_CALLS_PER_REPLY": value}
    with pytest.raises(ConfigError, match=r"^configuration: SIGNOFF_MAX_CALLS_PER_REPLY: ") as err:
        Settings.from_env(env)
    assert repr(value) in str(err.value) and "\n" not in str(err.value)


def test_signoff_run_with_a_bad_cap_exits_2_with_one_line(tmp_path: Path) -> None:
    bad = {"SIGNOFF_MAX_CALLS_PER_REPLY": "0", "SIGNOFF_LOG_FORMAT": "text"}
    done = cli(tmp_path / "home", "run", env=bad)
    assert done.returncode == 2, describe(done)
    assert done.stderr.strip().splitlines() == [
        "signoff: error: configuration: SIGNOFF_MAX_CALLS_PER_REPLY: Input should be greater "
        "than or equal to 1, not '0'"
    ]


async def test_calls_over_the_cap_are_never_shown_running(
    make_engine: EngineFactory, home: Home
) -> None:
    """The reply's steps listed all its calls as running, those over the cap included,
    until the turn ended and they turned to "not run": people watching saw calls running
    that never would. From the first steps on, they are shown as not run."""
    ran: list[str] = []
    live = RecordingLive()
    model = ScriptedModel(
        [reply(*[("probe", {"target": f"t{n}"}) for n in range(1, 5)]), text("ok")]
    )
    engine = await make_engine(
        model=model, registry=registry(ran), budgets=Budgets(max_calls_per_reply=2), live=live
    )
    await engine.ingest(message("look at things", ts="1700000000.000100"))
    await engine.idle()

    assert ran == ["t1", "t2"]
    shown = [event[2] for event in live.log.events if event[0] == "steps"]
    assert shown[0] == [("probe", s) for s in ("running", "running", "failed", "failed")]
    assert all(over != ("probe", "running") for steps in shown for over in steps[2:]), shown
    assert shown[-1] == [("probe", s) for s in ("done", "done", "failed", "failed")]
    assert ("working", ("probe",)) in live.log.events
