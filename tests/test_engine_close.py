"""Closing the engine cuts what still runs, and no cancel is swallowed on the way.

The bot's drain gives running turns ``SIGNOFF_DRAIN_S``; after it, ``Engine.close`` must
end even if a turn started late (a message stored by a frame still in flight, a click, a
worker's retry timer), and a worker cancelled while a stopped model call winds down must
end rather than go on to the thread's next turn. What is cut is on disk for recovery.
"""

from __future__ import annotations

import asyncio

from engine_support import THREAD, EngineFactory, HangingModel, message, replies, text

from agent_core.delivery import Delivery
from agent_core.observe import ModelCall, RecordingObserver
from agent_core.scripted import ScriptedModel
from agent_core.surface import RecordingSurface
from sessions import Home, ThreadDir


async def ended_within(awaitable: asyncio.Future[None], seconds: float) -> bool:
    done, _ = await asyncio.wait({awaitable}, timeout=seconds)
    return bool(done)


async def test_close_cuts_a_turn_that_began_after_the_drain(
    make_engine: EngineFactory, home: Home, surface: RecordingSurface
) -> None:
    model = HangingModel()
    engine = await make_engine(model=model)
    await asyncio.wait_for(engine.idle(), 5)  # the drain: nothing runs
    # A frame still in flight stores a message: its turn starts after the drain.
    await engine.ingest(message("in flight", ts="1700000000.000200"))
    await asyncio.wait_for(model.asked.wait(), 5)

    closing = asyncio.ensure_future(engine.close(flush=0.1, cut_after=0.2))
    assert await ended_within(closing, 5), "Engine.close() waited for the whole turn"
    closing.result()
    assert model.cancelled == 1
    # A wake-up after close began (a retry timer, a late click) starts nothing.
    engine.wake(THREAD)
    assert not engine._tasks

    # Nothing is lost: the next process answers the message.
    again = await make_engine(model=ScriptedModel([text("answered after the restart")]))
    await again.recover()
    await asyncio.wait_for(again.idle(), 5)
    assert "answered after the restart" in replies(surface)
    assert ThreadDir(home, THREAD).inbox.pending() == []


async def test_a_worker_cancelled_while_a_stopped_call_winds_down_ends(
    make_engine: EngineFactory,
) -> None:
    model = HangingModel(let_go=1.0)
    engine = await make_engine(model=model)
    await engine.ingest(message("first", ts="1700000000.000200"))
    await asyncio.wait_for(model.asked.wait(), 5)
    worker = engine._tasks[THREAD]
    for _ in range(500):  # until the turn waits on the model (its records written)
        if THREAD in engine.rt.stops._waiting:
            break
        await asyncio.sleep(0.01)
    await engine.stop(THREAD, user="U0ALICE", slack_ts="1700000000.000300")  # stop button
    await engine.ingest(message("second", ts="1700000000.000400"))
    for _ in range(500):  # until the worker waits for the stopped call to let go
        if model.cancelled:
            break
        await asyncio.sleep(0.01)
    assert model.cancelled == 1
    worker.cancel()  # the drain's deadline: cut the turn where it stands
    assert await ended_within(worker, 2), "the cancel was swallowed; the worker went on"
    assert worker.cancelled()
    asked = [str(getattr(call[-1], "text", "")) for call in model.calls]
    assert asked == ["first"]  # no turn for "second" in this process


async def test_a_model_call_cut_by_close_is_still_counted(
    make_engine: EngineFactory, home: Home
) -> None:
    """The drain's deadline cuts a turn while the model writes: the call was made (and
    the provider may bill it), so the metrics count it, as they count one a stop cut."""
    model = HangingModel("Half an ans")
    observer = RecordingObserver()
    engine = await make_engine(model=model, observer=observer)
    await engine.ingest(message("status of api?", ts="1700000000.000200"))
    await asyncio.wait_for(model.asked.wait(), 5)
    for _ in range(500):  # until the turn waits on the model (its records written)
        if THREAD in engine.rt.stops._waiting:
            break
        await asyncio.sleep(0.01)
    await asyncio.wait_for(engine.close(flush=0.1, cut_after=0.05), 5)
    assert model.cancelled == 1
    [session] = engine.rt.store.all_ids()
    calls = [e for e in observer.events if isinstance(e, ModelCall)]
    assert calls == [
        ModelCall(provider="hanging", outcome="cancelled", session_id=session, thread=THREAD)
    ]


async def test_delivery_stop_keeps_a_cancel_aimed_at_its_caller(home: Home) -> None:
    delivery = Delivery(home=home, surface=RecordingSurface(), poll=30.0)
    delivery.start()
    for _ in range(5):
        await asyncio.sleep(0)
    went_on: list[str] = []

    async def closer() -> None:
        await delivery.stop()
        went_on.append("after stop()")

    task = asyncio.ensure_future(closer())
    await asyncio.sleep(0)  # inside stop(), waiting for the delivery loop to end
    task.cancel()  # an asyncio.timeout around the caller expiring
    assert await ended_within(task, 2)
    assert task.cancelled() and went_on == []
