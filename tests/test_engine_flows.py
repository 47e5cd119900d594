"""Engine behaviour beyond the invariants: dispatch, budgets, batches, late decisions."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import shutil
import threading
from typing import Any

import pytest
from engine_support import (
    THREAD,
    EngineFactory,
    call,
    chain,
    message,
    replies,
    restarts,
    text,
    transcript,
)

from agent_core.budgets import Budgets
from agent_core.messages import AssistantMessage, EventMessage, ToolResultMessage, UserMessage
from agent_core.model import ModelReply, RawToolCall
from agent_core.scripted import ScriptedModel
from agent_core.surface import RecordingSurface
from agent_core.tools import ToolContext, ToolRegistry, tool
from approvals import Decided, Policy, Refused, StaticGroups, VoteCounted
from sessions import FixedClock, Home, Inbox, InboxMessage, SessionFiles, SessionState


def multi(*calls: tuple[str, dict[str, Any], str]) -> ModelReply:
    return ModelReply(
        tool_calls=tuple(RawToolCall(id=i, name=n, arguments=json.dumps(a)) for n, a, i in calls),
        stop_reason="tool_use",
    )


async def test_parallel_safe_calls_run_together_and_others_one_by_one(
    make_engine: EngineFactory, home: Home
) -> None:
    active = 0
    peak: dict[str, int] = {}
    all_reads = asyncio.Event()

    async def work(kind: str) -> str:
        nonlocal active
        active += 1
        peak[kind] = max(peak.get(kind, 0), active)
        if kind == "read":
            # Run together, or time out: a sleep let a loaded machine finish the first
            # read before the third began (each writes its intent first).
            all_reads.set() if active == 3 else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(all_reads.wait(), timeout=5)
        else:
            await asyncio.sleep(0.02)
        active -= 1
        return kind

    @tool(parallel_safe=True)
    async def read(n: int) -> str:
        """Read."""
        return await work("read")

    @tool
    async def write(n: int) -> str:
        """Write (not parallel-safe by default)."""
        return await work("write")

    model = ScriptedModel(
        [
            multi(("read", {"n": 1}, "r1"), ("read", {"n": 2}, "r2"), ("read", {"n": 3}, "r3")),
            multi(("write", {"n": 1}, "w1"), ("write", {"n": 2}, "w2")),
            text("done"),
        ]
    )
    engine = await make_engine(model=model, registry=ToolRegistry([read, write]))
    await engine.ingest(message("go", ts="1700000000.000100"))
    await engine.idle()
    assert peak == {"read": 3, "write": 1}
    results = [m.call_id for m in transcript(home) if isinstance(m, ToolResultMessage)]
    assert sorted(results[:3]) == ["r1", "r2", "r3"]
    assert results[3:] == ["w1", "w2"]


async def test_assistant_message_is_recorded_before_any_tool_runs(
    make_engine: EngineFactory, home: Home
) -> None:
    seen: list[int] = []

    @tool
    def probe(ctx: ToolContext) -> str:
        """Look at the transcript on disk while running."""
        files = SessionFiles(Home(ctx.home).session_dir(ctx.session_id))
        seen.append(sum(1 for m in files.read_transcript() if m["role"] == "assistant"))
        return "ok"

    model = ScriptedModel([call("probe", {}, "p1"), text("done")])
    engine = await make_engine(model=model, registry=ToolRegistry([probe]))
    await engine.ingest(message("probe", ts="1700000000.000100"))
    await engine.idle()
    assert seen == [1]


async def test_unknown_tools_bad_arguments_and_tool_errors_reach_the_model(
    make_engine: EngineFactory, home: Home
) -> None:
    @tool
    def boom(x: int) -> str:
        """Fails."""
        raise RuntimeError("disk full")

    model = ScriptedModel(
        [
            multi(("nope", {}, "a"), ("boom", {"x": "not a number"}, "b"), ("boom", {"x": 1}, "c")),
            call("boom", "{'x': 2,", "d"),
            text("giving up"),
        ]
    )
    engine = await make_engine(model=model, registry=ToolRegistry([boom]))
    await engine.ingest(message("go", ts="1700000000.000100"))
    await engine.idle()
    results = {m.call_id: m for m in transcript(home) if isinstance(m, ToolResultMessage)}
    assert "unknown tool 'nope'" in results["a"].content
    assert "invalid arguments for boom" in results["b"].content
    assert results["c"].content == "RuntimeError: disk full"
    assert results["d"].status == "error"  # a repaired call still ran into the tool's error
    assert chain(home)[-1].state == SessionState.COMPLETED


async def test_budgets_end_the_session_cleanly(
    make_engine: EngineFactory, home: Home, surface: RecordingSurface
) -> None:
    looping = ScriptedModel([call("service_status", {"service": "api"}, "s")], repeat_last=True)
    engine = await make_engine(model=looping, budgets=Budgets(max_steps=3))
    await engine.ingest(message("loop", ts="1700000000.000100"))
    await engine.idle()
    last = chain(home)[-1]
    assert last.state == SessionState.FAILED
    assert "step budget exhausted (3 model turns)" in last.reason
    assert any("I stopped here" in r for r in replies(surface))


async def test_token_budget(make_engine: EngineFactory, home: Home) -> None:
    from agent_core.messages import Usage

    big = ModelReply(
        tool_calls=(RawToolCall(id="s", name="service_status", arguments='{"service":"api"}'),),
        stop_reason="tool_use",
        usage=Usage(input_tokens=600, output_tokens=100),
    )
    engine = await make_engine(
        model=ScriptedModel([big], repeat_last=True), budgets=Budgets(max_tokens=1000)
    )
    await engine.ingest(message("loop", ts="1700000000.000100"))
    await engine.idle()
    assert "token budget exhausted" in chain(home)[-1].reason


async def test_kill_switch_stops_before_model_and_tools(
    make_engine: EngineFactory, home: Home
) -> None:
    model = ScriptedModel([text("should not be asked")])
    engine = await make_engine(model=model)
    home.kill_switch.write_text("incident 42")
    await engine.ingest(message("hello", ts="1700000000.000100"))
    await engine.idle()
    assert model.calls == []
    home.kill_switch.unlink()
    engine.wake(THREAD)
    await engine.idle()
    assert len(model.calls) == 1


async def test_two_gated_calls_in_one_turn_wait_for_both(
    make_engine: EngineFactory, home: Home, surface: RecordingSurface
) -> None:
    model = ScriptedModel(
        [
            multi(
                ("restart_service", {"service": "api"}, "c1"),
                ("restart_service", {"service": "web"}, "c2"),
            ),
            text("done"),
        ]
    )
    engine = await make_engine(model=model)
    await engine.ingest(message("restart both", ts="1700000000.000100"))
    await engine.idle()
    first, second = surface.cards
    assert first.batch == second.batch == (first.id, second.id)
    await engine.decide(first.id, user="U0BOB", approve=True)
    await engine.idle()
    assert restarts(home, "api") == 0  # not before every call of the turn is decided
    await engine.decide(second.id, user="U0BOB", approve=False, reason="web is fine")
    await engine.idle()
    assert restarts(home, "api") == 1
    assert restarts(home, "web") == 0
    results = {m.call_id: m for m in transcript(home) if isinstance(m, ToolResultMessage)}
    assert results["c1"].status == "ok"
    assert results["c2"].status == "denied"
    assert "web is fine" in results["c2"].content
    assert "do not retry" in results["c2"].content.lower()


async def test_a_decision_after_the_conversation_moved_on_is_told_as_an_event(
    make_engine: EngineFactory, home: Home, surface: RecordingSurface
) -> None:
    engine = await make_engine()
    await engine.ingest(message("restart api", ts="1700000000.000100"))
    await engine.idle()
    capsule = surface.cards[0]
    await engine.ingest(message("status of web", ts="1700000000.000200"))
    await engine.idle()
    pending = next(m for m in transcript(home) if isinstance(m, ToolResultMessage))
    assert pending.status == "pending"
    assert pending.approval_id == capsule.id
    await engine.decide(capsule.id, user="U0BOB", approve=True)
    await engine.idle()
    events = [m for m in transcript(home) if isinstance(m, EventMessage)]
    assert [(e.approval_id, e.status) for e in events] == [(capsule.id, "ok")]
    assert restarts(home) == 1
    assert "restart_service" in replies(surface)[-1]


async def test_deny_reason_reaches_the_model_and_identical_retry_is_refused(
    make_engine: EngineFactory, home: Home, surface: RecordingSurface
) -> None:
    engine = await make_engine()
    await engine.ingest(message("restart api", ts="1700000000.000100"))
    await engine.idle()
    await engine.decide(surface.cards[0].id, user="U0BOB", approve=False, reason="peak hours")
    await engine.idle()
    await engine.ingest(message("restart api", ts="1700000000.000300"))
    await engine.idle()
    assert len(surface.cards) == 1
    results = [m for m in transcript(home) if isinstance(m, ToolResultMessage)]
    assert results[0].status == "denied"
    assert "peak hours" in results[0].content
    assert results[1].status == "refused"
    # A different call is not refused: restarting web still asks.
    await engine.ingest(message("restart web", ts="1700000000.000400"))
    await engine.idle()
    assert len(surface.cards) == 2


async def test_quorum_and_group_approvers(
    make_engine: EngineFactory, home: Home, surface: RecordingSurface
) -> None:
    policy = Policy.from_mapping(
        {"tools": {"restart_service": {"approvers": ["S0OPS", "U0DAVE"], "quorum": 2}}},
        source="test",
    )
    groups = StaticGroups({"S0OPS": frozenset({"U0BOB", "U0CAROL"})})
    engine = await make_engine(policy=policy, groups=groups)
    await engine.ingest(message("restart api", ts="1700000000.000100"))
    await engine.idle()
    approval = surface.cards[0].id
    refused = await engine.decide(approval, user="U0ERIN", approve=True)
    assert isinstance(refused, Refused)
    assert "not an approver" in refused.reason
    assert isinstance(await engine.decide(approval, user="U0BOB", approve=True), VoteCounted)
    await engine.idle()
    assert restarts(home) == 0
    done = await engine.decide(approval, user="U0DAVE", approve=True)
    assert isinstance(done, Decided)
    assert done.decision.deciders == ("U0BOB", "U0DAVE")
    await engine.idle()
    assert restarts(home) == 1


async def test_expiry_sweep_expires_and_tells_the_model(
    make_engine: EngineFactory, home: Home, surface: RecordingSurface, clock: FixedClock
) -> None:
    from datetime import timedelta

    engine = await make_engine()
    await engine.ingest(message("restart api", ts="1700000000.000100"))
    await engine.idle()
    assert await engine.sweep() == 0
    clock.advance(timedelta(hours=25))
    assert await engine.sweep() == 1
    await engine.idle()
    assert surface.updates[0][1].verdict == "expired"
    result = [m for m in transcript(home) if isinstance(m, ToolResultMessage)][-1]
    assert result.status == "expired"
    assert restarts(home) == 0
    assert await engine.sweep() == 0


async def test_a_follow_up_continues_the_same_lineage(
    make_engine: EngineFactory, home: Home
) -> None:
    engine = await make_engine()
    await engine.ingest(message("status of api", ts="1700000000.000100"))
    await engine.idle()
    await engine.ingest(message("status of db", ts="1700000000.000200"))
    await engine.idle()
    sessions = chain(home)
    assert len(sessions) == 2
    assert sessions[1].parent_id == sessions[0].id
    users = [m.text for m in transcript(home) if isinstance(m, UserMessage)]
    assert users == ["status of api", "status of db"]
    assert all(
        isinstance(m, AssistantMessage | UserMessage | ToolResultMessage) for m in transcript(home)
    )


async def test_tool_signature_changed_while_waiting_fails_closed(
    make_engine: EngineFactory, home: Home, surface: RecordingSurface
) -> None:
    engine = await make_engine()
    await engine.ingest(message("restart api", ts="1700000000.000100"))
    await engine.idle()
    # Approved while the kill switch held it (a click on a changed tool is refused: that
    # is tests/e2e/test_e2e_tool_gone_click.py); the tool changes before it runs.
    home.kill_switch.touch()
    await engine.decide(surface.cards[0].id, user="U0BOB", approve=True)
    await engine.idle()
    await engine.close()

    @tool(requires_human_approval=True, name="restart_service")
    def restart_v2(service: str, force: bool = False) -> str:
        """Restart, with a new flag."""
        raise AssertionError("must not run")

    from agent_core.demo_fleet import deploy_service, scale_service, service_status

    registry = ToolRegistry([service_status, restart_v2, deploy_service, scale_service])
    engine = await make_engine(registry=registry)
    home.kill_switch.unlink()
    await engine.sweep()
    await engine.idle()
    result = [m for m in transcript(home) if isinstance(m, ToolResultMessage)][-1]
    assert result.status == "error"
    assert "tool changed since it was approved" in result.content


async def test_a_second_copy_of_a_message_stored_here_costs_no_disk_work(
    make_engine: EngineFactory, home: Home
) -> None:
    """Slack sends a mention twice, as ``app_mention`` and as ``message``: the copy that
    comes after this process stored the first is a duplicate without touching the disk,
    so it leaves no work-queue marker behind that only the sweep would clear."""
    engine = await make_engine(model=ScriptedModel([text("hi")]))
    mention = message("hello", ts="1700000000.000100")
    assert await engine.ingest(mention)
    await engine.idle()
    queue = engine.rt.coordination.work_queue
    assert queue.threads() == []
    assert not await engine.ingest(mention)
    assert queue.threads() == []


async def test_two_copies_at_once_are_stored_once_and_a_failed_first_copy_is_not_trusted(
    make_engine: EngineFactory, home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = await make_engine(model=ScriptedModel([text("one"), text("two")]))
    first = message("hello", ts="1700000000.000100")
    assert list(await asyncio.gather(engine.ingest(first), engine.ingest(first))) == [True, False]
    await engine.idle()
    # The disk fails for the first copy of the next message (as a full disk would): the
    # copy that waited on it is stored itself, so what Slack is acked for is durable.
    deliver, failed = Inbox.deliver, list[str]()

    def full_once(inbox: Inbox, m: InboxMessage) -> bool:
        if not failed:
            failed.append(m.ts)
            raise OSError(errno.ENOSPC, "No space left on device")
        return deliver(inbox, m)

    monkeypatch.setattr(Inbox, "deliver", full_once)
    second = message("again", ts="1700000000.000200")
    copies = await asyncio.gather(
        engine.ingest(second), engine.ingest(second), return_exceptions=True
    )
    assert isinstance(copies[0], OSError) and copies[1] is True
    await engine.idle()
    assert [m.text for m in transcript(home) if isinstance(m, UserMessage)] == ["hello", "again"]


async def test_a_copy_cut_while_it_waits_for_the_first_leaves_the_first_whole(
    make_engine: EngineFactory, home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A waiting copy whose handler is cancelled (a stop, a timeout around it) gives up
    only itself: the first copy is still stored, answered and its thread woken."""
    engine = await make_engine(model=ScriptedModel([text("hi")]))
    gate = threading.Event()
    deliver = Inbox.deliver

    def held(inbox: Inbox, m: InboxMessage) -> bool:
        gate.wait(10)
        return deliver(inbox, m)

    monkeypatch.setattr(Inbox, "deliver", held)
    mention = message("hello", ts="1700000000.000100")
    first = asyncio.create_task(engine.ingest(mention))
    second = asyncio.create_task(engine.ingest(mention))
    third = asyncio.create_task(engine.ingest(mention))
    await asyncio.sleep(0)  # all at their first wait: the disk thread, the first copy
    second.cancel()
    gate.set()
    assert await first is True
    assert await third is False
    assert second.cancelled()
    await engine.idle()
    assert [m.text for m in transcript(home) if isinstance(m, UserMessage)] == ["hello"]


async def test_a_thread_signoff_took_part_in_stays_known_without_a_look_at_the_disk(
    make_engine: EngineFactory, home: Home
) -> None:
    """Every plain message in a channel asks whether signoff takes part in its thread, on
    the socket thread that acks: a thread this process stored a message of is known from
    memory (here its directory is gone, and the answer still comes from what it saw)."""
    engine = await make_engine(model=ScriptedModel([text("hi")]))
    other = THREAD.model_copy(update={"thread_ts": "1700000000.000900"})
    assert not engine.knows_thread(THREAD) and not engine.knows_thread(other)
    await engine.ingest(message("hello", ts="1700000000.000100"))
    await engine.idle()
    shutil.rmtree(home.threads_dir)
    assert engine.knows_thread(THREAD)
    assert not engine.knows_thread(other)
