"""A turn asks the model before its records are written, and uses the answer only when it
fits (agent_core/early_call.py)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

import pytest
from engine_support import (
    THREAD,
    EngineFactory,
    HangingModel,
    RecordingSink,
    call,
    message,
    replies,
    text,
    transcript,
)

from agent_core.budgets import Budgets
from agent_core.early_call import EarlyCall, HeldSink, with_messages
from agent_core.engine import Engine
from agent_core.messages import AssistantMessage, Message, Usage, UserMessage
from agent_core.model import ModelReply
from agent_core.observe import ModelCall, RecordingObserver
from agent_core.scripted import ScriptedModel
from agent_core.surface import RecordingSurface
from sessions import Home, SessionRecord


async def test_the_model_is_asked_while_the_session_is_still_being_written(
    make_engine: EngineFactory,
    home: Home,
    surface: RecordingSurface,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked = threading.Event()

    def answer(messages: Sequence[Message]) -> ModelReply:
        asked.set()
        return text("all good")

    engine = await make_engine(model=ScriptedModel([answer]))
    create = engine.rt.store.create
    asked_before_created: list[bool] = []

    def slow_create(**kwargs: Any) -> SessionRecord:
        # The disk is slow (a burst): creation waits, up to a limit, for the model's call.
        asked_before_created.append(asked.wait(5))
        return create(**kwargs)

    monkeypatch.setattr(engine.rt.store, "create", slow_create)
    await engine.ingest(message("how is api?", ts="1700000000.000100"))
    await asyncio.wait_for(engine.idle(), 10)
    assert asked_before_created == [True]
    assert replies(surface) == ["all good"]
    assert [type(m).__name__ for m in transcript(home)] == ["UserMessage", "AssistantMessage"]


async def test_a_turn_with_calls_to_settle_asks_the_model_once_after_them(
    make_engine: EngineFactory, home: Home, surface: RecordingSurface
) -> None:
    # restart_service waits for approval; the approval's turn settles the call first, so
    # no early call is made for it (a strict script fails on any extra call).
    seen: list[list[str]] = []

    def after_restart(messages: Sequence[Message]) -> ModelReply:
        seen.append([type(m).__name__ for m in messages])
        return text("restarted")

    model = ScriptedModel([call("restart_service", {"service": "api"}), after_restart])
    engine = await make_engine(model=model)
    await engine.ingest(message("restart api", ts="1700000000.000100"))
    await asyncio.wait_for(engine.idle_workers(), 10)
    [pending] = await engine.rt.index.approvals(status="pending")
    await engine.decide(pending.id, user="U0BOB", approve=True)
    await asyncio.wait_for(engine.idle_workers(), 10)
    assert len(model.calls) == 2
    assert seen == [["UserMessage", "AssistantMessage", "ToolResultMessage"]]


async def test_held_text_waits_for_the_stream_and_keeps_its_order() -> None:
    held = HeldSink()
    await held.text("one ")
    await held.restart()  # a retry voids what was held
    await held.text("two ")
    sink = RecordingSink()
    await held.attach(sink)
    await held.text("three")
    await held.restart()
    assert sink.events == ["two ", "three", "<restart>"]


async def test_an_early_call_fits_only_what_it_asked() -> None:
    asked = [UserMessage(text="hi", user="U0ALICE", ts="1700000000.000100")]
    task: asyncio.Task[ModelReply] = asyncio.ensure_future(asyncio.sleep(0, text("x")))
    early = EarlyCall(transcript=[], messages=list(asked), tools=(), task=task, sink=HeldSink())
    await task
    assert early.fits(list(asked), [])
    later = UserMessage(text="and?", user="U0ALICE", ts="1700000000.000200")
    assert not early.fits([*asked, later], [])
    answered = AssistantMessage(text="hello")
    assert not early.fits([asked[0], answered], [])


def test_pending_messages_follow_the_transcript_once() -> None:
    first = message("hi", ts="1700000000.000100")
    second = message("and?", ts="1700000000.000200")
    recorded: list[Message] = [UserMessage(text="hi", user=first.user, ts=first.ts)]
    assert [
        m.ts for m in with_messages(recorded, [first, second]) if isinstance(m, UserMessage)
    ] == [
        first.ts,
        second.ts,
    ]


async def test_an_early_call_let_go_is_over_when_its_turn_is(
    make_engine: EngineFactory, home: Home
) -> None:
    # No step allowed: the turn ends before its first model call, so the early call is let
    # go, and it has stopped by the time the worker is done (the engine then closes the
    # model's connections).
    model = HangingModel()
    observer = RecordingObserver()
    engine = await make_engine(model=model, budgets=Budgets(max_steps=0), observer=observer)
    await engine.ingest(message("how is api?", ts="1700000000.000100"))
    await asyncio.wait_for(engine.idle_workers(), 10)
    assert model.cancelled == 1
    # Cut off in flight: what it cost is not known, but that it was made is, and for
    # which session (the turn's).
    assert _model_calls(observer) == [
        ModelCall(
            provider="hanging",
            outcome="cancelled",
            session_id=_only_session(engine),
            thread=THREAD,  # its model_error line names the conversation
        )
    ]


async def test_an_answer_the_turn_did_not_use_is_still_counted(
    make_engine: EngineFactory, home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model answered the early call (and was paid for it), then the turn ended
    before its first model call: the metrics still count the call and its tokens."""
    asked = threading.Event()

    def answer(messages: Sequence[Message]) -> ModelReply:
        asked.set()
        return ModelReply(text="all good", usage=Usage(input_tokens=120, output_tokens=7))

    observer = RecordingObserver()
    engine = await make_engine(
        model=ScriptedModel([answer]), budgets=Budgets(max_steps=0), observer=observer
    )
    create = engine.rt.store.create

    def after_the_answer(**kwargs: Any) -> SessionRecord:
        asked.wait(5)
        return create(**kwargs)

    monkeypatch.setattr(engine.rt.store, "create", after_the_answer)
    await engine.ingest(message("how is api?", ts="1700000000.000100"))
    await asyncio.wait_for(engine.idle_workers(), 10)
    assert _model_calls(observer) == [
        ModelCall(
            provider="scripted",
            outcome="discarded",
            input_tokens=120,
            output_tokens=7,
            session_id=_only_session(engine),
            thread=THREAD,
        )
    ]


def _model_calls(observer: RecordingObserver) -> list[ModelCall]:
    return [e for e in observer.events if isinstance(e, ModelCall)]


def _only_session(engine: Engine) -> str:
    (session,) = engine.rt.store.all_ids()
    return session


async def test_closing_an_early_call_waits_until_it_has_stopped() -> None:
    model = HangingModel()
    task = asyncio.ensure_future(
        model.stream(system="", messages=[], tools=[], sink=RecordingSink())
    )
    early = EarlyCall(transcript=[], messages=[], tools=(), task=task, sink=HeldSink())
    await asyncio.wait_for(model.asked.wait(), 5)
    await early.close()
    assert task.cancelled() and model.cancelled == 1
