"""A mention's twins at the engine's ingest, where the order of the copies can be forced:
the first copy cut while its disk write runs, and a twin that comes after its message was
taken into a session and every in-memory window forgot it."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from engine_support import EngineFactory, message, text, transcript

from agent_core.ingest import StoredHere
from agent_core.messages import UserMessage
from agent_core.scripted import ScriptedModel
from bot.envelopes import Fate
from bot.ingest import EventIngest
from sessions import FixedClock, Home, Inbox, InboxMessage

PARENT = "1700000000.000100"  # engine_support's THREAD


def said(home: Home) -> list[str]:
    return [m.text for m in transcript(home) if isinstance(m, UserMessage)]


async def test_a_first_copy_cut_while_its_write_runs_leaves_its_twin_to_wake_the_thread(
    make_engine: EngineFactory, home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stop cuts the first copy's handler while its disk thread is still storing; the twin
    waiting on it is told the first copy is lost and stores itself. The cut copy's thread
    links the message (its coroutine, cancelled, never wakes the thread); the twin finds it
    stored and must wake the thread itself: no redelivery may be needed for an answer."""
    engine = await make_engine(model=ScriptedModel([text("hi")]))
    gate, first_linked, entered = threading.Event(), threading.Event(), threading.Semaphore(0)
    deliver, calls = Inbox.deliver, list[str]()

    def held(inbox: Inbox, m: InboxMessage) -> bool:
        calls.append(m.ts)
        entered.release()
        if len(calls) > 1:  # the twin's write waits for the cut copy's, which wins the link
            first_linked.wait(10)
            return deliver(inbox, m)
        gate.wait(10)
        try:
            return deliver(inbox, m)
        finally:
            first_linked.set()

    monkeypatch.setattr(Inbox, "deliver", held)
    mention = message("hello", ts=PARENT)
    first = asyncio.create_task(engine.ingest(mention))
    twin = asyncio.create_task(engine.ingest(mention))
    assert await asyncio.to_thread(entered.acquire, True, 10)  # the first copy's write runs
    first.cancel()
    assert await asyncio.to_thread(entered.acquire, True, 10)  # the twin now writes itself
    gate.set()
    assert await twin is False  # the cut copy's write stored it
    with pytest.raises(asyncio.CancelledError):
        await first
    await engine.idle()
    assert said(home) == ["hello"]
    assert not await engine.ingest(mention)  # a third copy: stored, taken
    await engine.idle()
    assert said(home) == ["hello"]


def envelope(event_id: str, ts: str, *, kind: str = "app_mention") -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": kind,
        "channel": "C0OPS",
        "user": "U0ALICE",
        "text": f"<@U0SIGNOFF> status {ts}",
        "ts": ts,
    }
    if ts != PARENT:
        event["thread_ts"] = PARENT
    if kind == "message":
        event["channel_type"] = "channel"
    return {"type": "event_callback", "team_id": "T0LOCAL", "event_id": event_id, "event": event}


async def test_a_twin_after_its_message_was_taken_and_every_window_forgot_it_is_a_duplicate(
    make_engine: EngineFactory, home: Home, clock: FixedClock
) -> None:
    """Windows of one: the next message pushes the first out of the event ids seen and out
    of the messages this process stored. Its ``message`` twin, and its own event again, then
    go to the disk, which finds it in ``taken.jsonl``: duplicates, never a second turn."""
    engine = await make_engine(model=ScriptedModel([text("one"), text("two")]))
    engine._stored_here = StoredHere(size=1)
    ingest = EventIngest(
        engine, home=home, clock=clock, bot_user_id="U0SIGNOFF", bot_id="B0SIGNOFF", window=1
    )
    reply = "1700000000.000200"
    assert (await ingest.handle(envelope("EvA1", PARENT))).fate is Fate.STORED
    await engine.idle()
    assert (await ingest.handle(envelope("EvB1", reply))).fate is Fate.STORED
    await engine.idle()
    for late in (envelope("EvA2", PARENT, kind="message"), envelope("EvA1", PARENT)):
        outcome = await ingest.handle(late)
        assert (outcome.fate, outcome.reason) == (Fate.DUPLICATE, "message already stored")
    await engine.idle()
    assert said(home) == [f"<@U0SIGNOFF> status {PARENT}", f"<@U0SIGNOFF> status {reply}"]
    await ingest.drain(within=5)
