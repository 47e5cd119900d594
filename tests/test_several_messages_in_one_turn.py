"""Several messages drained into one turn: every one is answered (hostile-input issue, 3).

The test holds the thread's lock while messages (and a decision) arrive, so the worker
takes them all into one session, exactly as a busy thread does.
"""

from __future__ import annotations

from typing import Any

from engine_support import THREAD, call, message, replies, text, transcript

from agent_core.messages import AssistantMessage, EventMessage, ToolResultMessage, UserMessage
from agent_core.scripted import ScriptedModel
from sessions import Home, ThreadDir, coordination_for


async def _drained(engine: Any, home: Home, *texts: str, user: str = "U0ALICE") -> None:
    tdir = ThreadDir(home, THREAD)
    tdir.ensure()
    async with coordination_for(home).thread_locks.hold(THREAD):
        for n, text in enumerate(texts):
            await engine.ingest(message(text, ts=f"1700000000.00010{n}", user=user))
    await engine.idle()


async def test_two_gated_requests_get_two_cards_each_quoting_its_own_message(
    make_engine: Any, home: Home, surface: Any
) -> None:
    engine = await make_engine()
    await _drained(engine, home, "<@U0BOT> restart api", "<@U0BOT> restart web")
    assert sorted(c.arguments["service"] for c in surface.cards) == ["api", "web"]
    why = {c.arguments["service"]: c.reason for c in surface.cards}
    assert why == {"api": "asked: <@U0BOT> restart api", "web": "asked: <@U0BOT> restart web"}


async def test_a_status_and_a_restart_get_a_status_reply_and_a_card(
    make_engine: Any, home: Home, surface: Any
) -> None:
    engine = await make_engine()
    await _drained(engine, home, "<@U0BOT> status of db", "<@U0BOT> restart api")
    assert [c.arguments for c in surface.cards] == [{"service": "api"}]
    said = "\n".join(replies(surface))
    assert "`service_status` finished" in said and "service=db" in said
    assert "`restart_service` is waiting for approval" in said


async def test_what_is_not_understood_is_said_beside_what_is_done(
    make_engine: Any, home: Home, surface: Any
) -> None:
    engine = await make_engine()
    await _drained(engine, home, "<@U0BOT> status of db", "<@U0BOT> make me a sandwich")
    said = "\n".join(replies(surface))
    assert "service=db" in said and "did not understand 1 of your messages" in said


async def test_a_result_settled_in_the_turn_comes_before_the_new_message(
    make_engine: Any, home: Home, surface: Any
) -> None:
    seen: list[list[Any]] = []

    def answer(messages: Any) -> Any:
        seen.append(list(messages))
        last = messages[-1]
        if isinstance(last, UserMessage) and "restart" in last.text:
            return call("restart_service", {"service": "api"}, "c1")
        if isinstance(last, UserMessage):
            return text(f"answering: {last.text}")
        return text("restart told")

    engine = await make_engine(model=ScriptedModel([answer], repeat_last=True))
    await engine.ingest(message("restart api", ts="1700000000.000100"))
    await engine.idle()
    (card,) = surface.cards
    async with coordination_for(home).thread_locks.hold(THREAD):
        await engine.decide(card.id, user="U0BOB", approve=True)
        await engine.ingest(message("and how is web?", ts="1700000000.000200"))
    await engine.idle()
    last_call = seen[-1]
    # The model's last turn saw the restart's result first, then the new question last.
    assert isinstance(last_call[-1], UserMessage) and last_call[-1].text == "and how is web?"
    kinds = [type(m).__name__ for m in last_call]
    assert kinds[-3:] == ["AssistantMessage", "ToolResultMessage", "UserMessage"]
    assert "answering: and how is web?" in replies(surface)
    results = [m for m in transcript(home) if isinstance(m, ToolResultMessage)]
    assert [(r.call_id, r.status) for r in results] == [("c1", "ok")]
    assert not [m for m in transcript(home) if isinstance(m, EventMessage)]
    assert isinstance(transcript(home)[-1], AssistantMessage)
