"""The design's invariants I1–I6, each asserted by name."""

from __future__ import annotations

import json
from typing import Any

import pytest
from engine_support import (
    THREAD,
    EngineFactory,
    call,
    chain,
    fleet,
    load_decision,
    message,
    record_path,
    replies,
    restarts,
    text,
    transcript,
    user_ts,
)

from agent_core.demo_fleet import demo_registry
from agent_core.messages import ToolResultMessage
from agent_core.scripted import ScriptedModel
from agent_core.session_run import SessionRun
from agent_core.settle import settle
from agent_core.surface import CardView, Delivered, RecordingSurface
from approvals import AlreadyDecided, Capsule, Decided, Decision
from approvals.records import write_record
from sessions import (
    FixedClock,
    Home,
    IllegalTransitionError,
    OutboxEntry,
    SessionFiles,
    SessionState,
    SessionStore,
    StaleStateError,
    ThreadDir,
    reindex,
    verify,
)
from sessions.manifest import MANIFEST


async def park_restart(make_engine: Any, surface: RecordingSurface) -> Any:
    engine = await make_engine()
    await engine.ingest(message("<@U0BOT> restart api", ts="1700000000.000100"))
    await engine.idle()
    assert len(surface.cards) == 1
    return engine, surface.cards[0]


# I1 ----------------------------------------------------------------------------------
async def test_I1_gated_call_does_not_run_on_the_models_word(
    make_engine: EngineFactory, surface: RecordingSurface, home: Home
) -> None:
    engine, capsule = await park_restart(make_engine, surface)
    assert restarts(home) == 0
    assert capsule.tool == "restart_service" and capsule.arguments == {"service": "api"}
    parked = chain(home)[-1]
    assert parked.state == SessionState.AWAITING_APPROVAL
    tickets = SessionFiles(home.session_dir(parked.id)).read_tickets()
    assert not [t for t in tickets if t.kind == "intent"]


async def test_I1_gate_sits_before_the_call_in_a_mixed_batch(
    make_engine: EngineFactory, surface: RecordingSurface, home: Home
) -> None:
    both = ScriptedModel(
        [
            lambda _: call("service_status", {"service": "api"}, "c1").model_copy(
                update={
                    "tool_calls": (
                        call("service_status", {"service": "api"}, "c1").tool_calls[0],
                        call("restart_service", {"service": "api"}, "c2").tool_calls[0],
                    )
                }
            ),
            text("api is healthy; the restart waits for approval"),
        ]
    )
    engine = await make_engine(model=both)
    await engine.ingest(message("status then restart", ts="1700000000.000100"))
    await engine.idle()
    results = [m for m in transcript(home) if isinstance(m, ToolResultMessage)]
    # The status ran and is told now; the restart waits in its slot, not run.
    assert [(r.call_id, r.status) for r in results] == [("c1", "ok"), ("c2", "pending")]
    assert restarts(home) == 0 and len(surface.cards) == 1
    assert replies(surface) == ["api is healthy; the restart waits for approval"]


async def test_I1_a_decision_for_another_hash_does_not_run(
    make_engine: EngineFactory, surface: RecordingSurface, home: Home
) -> None:
    engine, capsule = await park_restart(make_engine, surface)
    session_dir = home.session_dir(capsule.session_id)
    forged = Decision(
        approval_id=capsule.id,
        verdict="approved",
        deciders=("U0BOB",),
        at="2026-11-02T09:05:00.000Z",
        args_sha256="0" * 64,
    )
    write_record(record_path(session_dir, capsule.id, "decision"), forged)
    engine.wake(THREAD)
    await engine.idle()
    assert restarts(home) == 0
    result = [m for m in transcript(home) if isinstance(m, ToolResultMessage)][-1]
    assert result.status == "error" and "different argument hash" in result.content


async def test_I1_predicate_gates_only_risky_arguments(
    make_engine: EngineFactory, surface: RecordingSurface, home: Home
) -> None:
    from agent_core.tools import ToolContext, ToolRegistry, tool

    ran: list[int] = []

    @tool(requires_human_approval=lambda args: args["replicas"] > 10)
    def resize(replicas: int, ctx: ToolContext) -> str:
        """Resize the pool."""
        ran.append(replicas)
        return "ok"

    model = ScriptedModel(
        [
            call("resize", {"replicas": 3}, "c1"),
            call("resize", {"replicas": 50}, "c2"),
            text("done"),
        ]
    )
    engine = await make_engine(model=model, registry=ToolRegistry([resize]))
    await engine.ingest(message("resize", ts="1700000000.000100"))
    await engine.idle()
    assert ran == [3]
    assert [c.arguments for c in surface.cards] == [{"replicas": 50}]


# I2 ----------------------------------------------------------------------------------
async def test_I2_an_approved_call_runs_at_most_once(
    make_engine: EngineFactory, surface: RecordingSurface, home: Home, clock: FixedClock
) -> None:
    engine, capsule = await park_restart(make_engine, surface)
    assert isinstance(await engine.decide(capsule.id, user="U0BOB", approve=True), Decided)
    await engine.idle()
    again = await engine.decide(capsule.id, user="U0CAROL", approve=True)
    assert isinstance(again, AlreadyDecided) and again.decision.deciders == ("U0BOB",)
    await engine.recover()
    engine.wake(THREAD)
    await engine.idle()
    assert restarts(home) == 1
    assert [h["key"] for h in fleet(home)["history"]] == [capsule.id]


async def test_I2_resettling_uses_the_recorded_result_or_reports_uncertain(
    make_engine: EngineFactory, surface: RecordingSurface, home: Home
) -> None:
    engine, capsule = await park_restart(make_engine, surface)
    await engine.decide(capsule.id, user="U0BOB", approve=True)
    await engine.idle()
    assert restarts(home) == 1
    parked_dir = home.session_dir(capsule.session_id)
    store = SessionStore(home)

    async def replay() -> ToolResultMessage:
        # A second child of the parked session, as if the first child's work were lost.
        record = store.create(
            thread=THREAD,
            parent_id=capsule.session_id,
            cause="test",
            session_md="",
            transcript=(parked_dir / "transcript.jsonl").read_bytes(),
        )
        run = SessionRun(engine.rt, record)
        await run.start()
        await settle(run)
        return [m for m in run.transcript if isinstance(m, ToolResultMessage)][-1]

    first = await replay()
    assert first.status == "ok" and restarts(home) == 1
    # Without result.json, the claiming session's result ticket still tells the outcome.
    record_path(parked_dir, capsule.id, "result").unlink()
    second = await replay()
    assert second.status == "ok" and restarts(home) == 1
    # With neither (a crash between the tool's effect and any record), it is uncertain.
    record_path(parked_dir, capsule.id, "result").unlink()
    claim = json.loads(record_path(parked_dir, capsule.id, "claim").read_text())
    tickets = home.session_dir(claim["session_id"]) / "tickets.jsonl"
    kept = [t for t in tickets.read_text().splitlines() if json.loads(t)["kind"] != "result"]
    tickets.write_text("".join(line + "\n" for line in kept))
    third = await replay()
    assert third.status == "uncertain" and restarts(home) == 1


# I3 ----------------------------------------------------------------------------------
async def test_I3_an_ingested_message_is_on_disk_and_processed_once(
    make_engine: EngineFactory, home: Home
) -> None:
    engine = await make_engine(model=ScriptedModel([text("hello")]))
    m = message("hi", ts="1700000000.000100")
    assert await engine.ingest(m) is True
    assert (ThreadDir(home, THREAD).inbox.new / m.ts).exists() or user_ts(home) == [m.ts]
    twin = m.model_copy(update={"event_id": "EvOTHER"})  # the message/app_mention twin
    assert await engine.ingest(m) is False
    assert await engine.ingest(twin) is False
    await engine.idle()
    assert user_ts(home) == [m.ts]
    assert await engine.ingest(m) is False  # a late redelivery after processing
    await engine.idle()
    assert user_ts(home) == [m.ts]
    assert len(chain(home)) == 1


async def test_I3_a_failing_model_loses_no_message(
    make_engine: EngineFactory, home: Home, surface: RecordingSurface
) -> None:
    model = ScriptedModel([RuntimeError("provider down"), text("back")])
    engine = await make_engine(model=model)
    await engine.ingest(message("first", ts="1700000000.000100"))
    await engine.idle()
    assert chain(home)[-1].state == SessionState.FAILED
    assert "provider down" in chain(home)[-1].reason
    assert any("could not get an answer" in t for _, t in surface.replies)
    await engine.ingest(message("again", ts="1700000000.000200"))
    await engine.idle()
    assert user_ts(home) == ["1700000000.000100", "1700000000.000200"]


# I4 ----------------------------------------------------------------------------------
async def test_I4_state_never_moves_backwards_and_ended_sessions_are_sealed(
    make_engine: EngineFactory, surface: RecordingSurface, home: Home
) -> None:
    engine, capsule = await park_restart(make_engine, surface)
    await engine.decide(capsule.id, user="U0BOB", approve=True)
    await engine.idle()
    store = SessionStore(home)
    for record in chain(home):
        assert record.terminal
        assert verify(home.session_dir(record.id)).ok
        assert verify(home.session_dir(record.id)).sealed
        with pytest.raises(IllegalTransitionError):
            store.transition(record.id, expected=record.state, new=SessionState.RUNNING)
    fresh = store.create(thread=THREAD, parent_id=None, cause="t", session_md="")
    stale = SessionStore(home)  # another process that read "created" earlier
    store.transition(fresh.id, expected=SessionState.CREATED, new=SessionState.RUNNING)
    with pytest.raises(StaleStateError):
        stale.transition(fresh.id, expected=SessionState.CREATED, new=SessionState.CANCELLED)
    store.transition(fresh.id, expected=SessionState.RUNNING, new=SessionState.COMPLETED)
    with pytest.raises(StaleStateError):
        stale.transition(fresh.id, expected=SessionState.RUNNING, new=SessionState.FAILED)
    assert store.load(fresh.id).state == SessionState.COMPLETED


async def test_I4_a_session_another_process_ended_but_did_not_seal_is_sealed_by_the_sweep(
    make_engine: EngineFactory, home: Home
) -> None:
    # A terminal command killed between a session's final state and its seal: only the
    # next start sealed it, so while a bot ran, `signoff verify` flagged it (soak seed
    # 843187) and a call it asked for would be refused. The bot's sweep seals it.
    engine = await make_engine()
    store = SessionStore(home)
    fresh = store.create(thread=THREAD, parent_id=None, cause="t", session_md="", running=True)
    await engine.rt.index.put_session(fresh)  # the index has it running
    ended = store.transition(fresh.id, expected=SessionState.RUNNING, new=SessionState.FAILED)
    (home.session_dir(fresh.id) / MANIFEST).unlink()  # killed before its seal
    assert not verify(home.session_dir(fresh.id)).sealed
    await engine.sweep()
    report = verify(home.session_dir(fresh.id))
    assert report.sealed and report.ok
    assert [r.id for r in await engine.rt.index.sessions(states=["running"])] == []
    assert ended.terminal


async def test_I4_tampering_with_a_sealed_session_is_detected_and_resume_refuses(
    make_engine: EngineFactory, surface: RecordingSurface, home: Home
) -> None:
    engine, capsule = await park_restart(make_engine, surface)
    capsule_path = home.session_dir(capsule.session_id) / "approvals" / f"{capsule.id}.json"
    data = json.loads(capsule_path.read_text())
    data["arguments"] = {"service": "db"}
    capsule_path.write_text(json.dumps(data))
    report = verify(home.session_dir(capsule.session_id))
    assert not report.ok and any(capsule.id in p for p in report.problems)
    from approvals import HashMismatchError

    with pytest.raises(HashMismatchError):
        await engine.decide(capsule.id, user="U0BOB", approve=True)
    assert restarts(home, "db") == 0 and restarts(home) == 0


def _forge_capsule(home: Home, capsule: Capsule, arguments: dict[str, Any]) -> None:
    """Rewrite a capsule's arguments *and* its hash, as a careful attacker would."""
    from approvals import args_sha256

    path = home.session_dir(capsule.session_id) / "approvals" / f"{capsule.id}.json"
    data = json.loads(path.read_text())
    data["arguments"] = arguments
    data["args_sha256"] = args_sha256(capsule.tool, arguments)
    path.write_text(json.dumps(data))


async def test_I4_a_forged_capsule_is_refused_by_the_card_hash_then_by_the_seal(
    make_engine: EngineFactory, surface: RecordingSurface, home: Home
) -> None:
    from approvals import HashMismatchError

    engine, capsule = await park_restart(make_engine, surface)
    _forge_capsule(home, capsule, {"service": "db"})
    # The card recorded the hash the approvers saw: the forged capsule no longer matches.
    with pytest.raises(HashMismatchError, match="the card showed hash"):
        await engine.decide(capsule.id, user="U0BOB", approve=True)
    # Deleting the card record too: the decision is taken, but the seal refuses the run.
    record_path(home.session_dir(capsule.session_id), capsule.id, "card").unlink()
    await engine.decide(capsule.id, user="U0BOB", approve=True)
    await engine.idle()
    assert restarts(home, "db") == 0
    result = [m for m in transcript(home) if isinstance(m, ToolResultMessage)][-1]
    assert result.status == "error" and "modified after it was sealed" in result.content


async def test_I4_deleting_the_seal_does_not_let_a_forged_capsule_run(
    make_engine: EngineFactory, surface: RecordingSurface, home: Home
) -> None:

    engine, capsule = await park_restart(make_engine, surface)
    session_dir = home.session_dir(capsule.session_id)
    _forge_capsule(home, capsule, {"service": "db"})
    record_path(session_dir, capsule.id, "card").unlink()
    (session_dir / "MANIFEST.sha256").unlink()
    await engine.decide(capsule.id, user="U0BOB", approve=True)
    await engine.idle()
    assert restarts(home, "db") == 0
    result = [m for m in transcript(home) if isinstance(m, ToolResultMessage)][-1]
    assert result.status == "error" and "has no seal" in result.content


async def test_I4_recovery_seals_a_session_that_ended_without_its_seal(
    make_engine: EngineFactory, home: Home
) -> None:
    from sessions import SessionStore

    engine = await make_engine()
    await engine.ingest(message("status of api", ts="1700000000.000100"))
    await engine.idle()
    done = chain(home)[-1]
    (home.session_dir(done.id) / "MANIFEST.sha256").unlink()  # a crash before the seal
    # The index still believes it runs, as it would after such a crash.
    running = done.model_copy(update={"state": SessionState.RUNNING})
    await engine.rt.index.put_session(running)
    await engine.recover()
    await engine.idle()
    assert verify(home.session_dir(done.id)).sealed
    assert verify(home.session_dir(done.id)).ok
    assert SessionStore(home).load(done.id).state == SessionState.COMPLETED


# I5 ----------------------------------------------------------------------------------
async def test_I5_deleting_the_index_loses_nothing(
    make_engine: EngineFactory, surface: RecordingSurface, home: Home
) -> None:
    engine, capsule = await park_restart(make_engine, surface)
    await engine.ingest(message("status of web", ts="1700000000.000300"))
    await engine.idle()
    before_sessions = sorted((r.id, r.state) for r in await engine.rt.index.sessions(limit=100))
    before_pending = [a.id for a in await engine.rt.index.approvals(status="pending")]
    await engine.close()
    for suffix in ("", "-wal", "-shm"):
        (home.root / f"index.sqlite3{suffix}").unlink(missing_ok=True)
    engine = await make_engine()  # opening without an index rebuilds it
    after_sessions = sorted((r.id, r.state) for r in await engine.rt.index.sessions(limit=100))
    assert after_sessions == before_sessions
    assert [a.id for a in await engine.rt.index.approvals(status="pending")] == before_pending
    assert (await engine.rt.index.approval(capsule.id)).card_ts is not None  # type: ignore[union-attr]
    assert await engine.rt.index.thread_head(THREAD) == chain(home)[-1].id
    await engine.decide(capsule.id, user="U0BOB", approve=True)
    await engine.idle()
    assert restarts(home) == 1
    await engine.close()  # a rebuild waits for the bot to stop (it refuses meanwhile)
    counts = await reindex(home)
    assert counts["sessions"] == len(after_sessions) + 1


async def test_I5_a_rebuilt_index_still_finds_a_session_a_crash_left_unsealed(
    make_engine: EngineFactory, surface: RecordingSurface, home: Home
) -> None:
    """A crash between a session's final state and its seal, then the index deleted (an
    operator's ``signoff reindex``) before the restart: recovery found that session only
    through the index's stale "running" row, so it stayed unsealed, and its approved call
    was refused as if its seal had been removed."""
    engine, capsule = await park_restart(make_engine, surface)
    parked = home.session_dir(capsule.session_id)
    await engine.close()
    (parked / "MANIFEST.sha256").unlink()  # a crash before the seal
    for suffix in ("", "-wal", "-shm"):
        (home.root / f"index.sqlite3{suffix}").unlink(missing_ok=True)
    engine = await make_engine()  # opening without an index rebuilds it
    await engine.recover()
    assert verify(parked).sealed and verify(parked).ok
    await engine.decide(capsule.id, user="U0BOB", approve=True)
    await engine.idle()
    assert restarts(home) == 1


# I6 ----------------------------------------------------------------------------------
async def test_I6_a_pending_approval_survives_with_nothing_in_memory(
    make_engine: EngineFactory, surface: RecordingSurface, home: Home
) -> None:
    engine, capsule = await park_restart(make_engine, surface)
    await engine.close()
    other_surface = RecordingSurface()
    engine = await make_engine(surface=other_surface)
    counts = await engine.recover()
    assert counts["crashed"] == 0
    pending = await engine.rt.index.approvals(status="pending")
    assert [a.id for a in pending] == [capsule.id]
    result = await engine.decide(capsule.id, user="U0BOB", approve=True)
    assert isinstance(result, Decided)
    await engine.idle()
    assert restarts(home) == 1
    assert other_surface.updates and other_surface.updates[0][0] == capsule.id
    assert load_decision(home.session_dir(capsule.session_id), capsule.id) is not None


async def test_I6_a_card_that_failed_to_post_is_posted_by_recovery(
    make_engine: EngineFactory, home: Home
) -> None:
    class Broken(RecordingSurface):
        async def show_card(
            self, entry: OutboxEntry, view: CardView, *, check_first: bool
        ) -> Delivered:
            raise ConnectionError("socket dropped")

    engine = await make_engine(surface=Broken())
    await engine.ingest(message("restart api", ts="1700000000.000100"))
    await engine.idle()
    # The request is durable without its card; the card waits in the outbox.
    assert [a.card_ts for a in await engine.rt.index.approvals(status="pending")] == [None]
    await engine.close(flush=0)
    good = RecordingSurface()
    engine = await make_engine(surface=good)
    await engine.recover()
    await engine.idle()
    assert len(good.cards) == 1
    assert demo_registry().get("restart_service") is not None
