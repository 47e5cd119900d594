"""Review of the early model call (agent_core/early_call.py): a call it starts must be one
the turn would make, and the transcript it hands the new session must be the session's."""

from __future__ import annotations

import asyncio

from engine_support import THREAD, EngineFactory, HangingModel, call, head, message, text

from agent_core.messages import AssistantMessage
from agent_core.scripted import ScriptedModel
from agent_core.session_run import SessionRun
from approvals import ApprovalRequest, record_decision
from sessions import Home, SessionFiles, SessionState

STOP_TS = "1700000100.000000"


async def test_messages_a_stop_came_after_are_not_sent_to_the_model(
    make_engine: EngineFactory, home: Home
) -> None:
    # A follow-up arrives while the model answers; then the person clicks stop. The stop
    # applies to the follow-up too (it is older), so its turn ends without a model call:
    # an early call for it would be paid for and thrown away.
    model = HangingModel()
    engine = await make_engine(model=model)
    await engine.ingest(message("explain everything", ts="1700000000.000100"))
    await asyncio.wait_for(model.asked.wait(), 5)
    await engine.ingest(message("and the database too", ts="1700000050.000100"))
    outcome = await engine.stop(THREAD, user="U0BOB", slack_ts=STOP_TS)
    assert outcome is not None and outcome.interrupted
    await asyncio.wait_for(engine.idle_workers(), 5)

    record = engine.rt.store.load(head(home))
    assert (record.state, record.reason) == (
        SessionState.CANCELLED,
        "stopped from Slack by <@U0BOB>",
    )
    assert [m.ts for m in SessionRun(engine.rt, record).unanswered_messages()] == [
        "1700000000.000100",
        "1700000050.000100",
    ]
    assert len(model.calls) == 1


async def test_an_outcome_told_on_the_way_costs_no_second_call(
    make_engine: EngineFactory, home: Home
) -> None:
    # An approval decided while its thread's worker did not run yet, and a message beside
    # it: the turn tells the outcome before the message, so an early call made without
    # it never fits.
    model = ScriptedModel(
        [
            call("restart_service", {"service": "api"}),
            text("waiting for Bob"),
            text("api was restarted"),
            text("a second answer nobody asked for"),
        ]
    )
    engine = await make_engine(model=model)
    await engine.ingest(message("restart api", ts="1700000000.000100"))
    await asyncio.wait_for(engine.idle_workers(), 5)
    await engine.ingest(message("any news?", ts="1700000000.000200"))
    await asyncio.wait_for(engine.idle_workers(), 5)
    [pending] = await engine.rt.index.approvals(status="pending")
    rt = engine.rt
    request = ApprovalRequest.open(home, pending.id, clock=rt.clock)
    # Recorded as the click records it; the worker is woken by the message below.
    await record_decision(
        request, user="U0BOB", approve=True, policy=rt.policy, groups=rt.groups, clock=rt.clock
    )
    await engine.ingest(message("thanks", ts="1700000000.000300"))
    await asyncio.wait_for(engine.idle_workers(), 5)

    assert len(model.calls) == 3
    final = SessionRun(rt, rt.store.load(head(home)))
    assert final.record.state == SessionState.COMPLETED
    assert isinstance(final.transcript[-1], AssistantMessage)
    assert final.transcript[-1].text == "api was restarted"


async def test_a_new_session_holds_the_transcript_its_files_hold(
    make_engine: EngineFactory, home: Home
) -> None:
    # The parent's last record lost its newline (a short write on a full disk): it reads
    # as a tail, but a child continues only complete lines. The child's in-memory
    # transcript, and so what the model is asked, must be what its files say.
    model = ScriptedModel([text("hello"), text("fine")], repeat_last=True)
    engine = await make_engine(model=model)
    await engine.ingest(message("hi", ts="1700000000.000100"))
    await asyncio.wait_for(engine.idle_workers(), 5)
    parent = head(home)
    path = SessionFiles(home.session_dir(parent)).transcript_path
    path.write_bytes(path.read_bytes().rstrip(b"\n"))

    await engine.ingest(message("and you?", ts="1700000000.000200"))
    await asyncio.wait_for(engine.idle_workers(), 5)
    child = head(home)
    assert child != parent
    on_disk = SessionRun(engine.rt, engine.rt.store.load(child)).transcript
    assert model.calls[-1] == on_disk[:-1]
