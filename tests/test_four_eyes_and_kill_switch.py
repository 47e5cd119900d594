"""Who may not approve, rules that cannot decide, and approvals frozen by the kill switch."""

from __future__ import annotations

from typing import Any

from engine_support import (
    THREAD,
    EngineFactory,
    call,
    chain,
    message,
    restarts,
    text,
    transcript,
    two_askers_turn,
)

from agent_core.messages import ToolResultMessage
from agent_core.scripted import ScriptedModel
from agent_core.surface import RecordingSurface
from agent_core.tools import ToolRegistry, tool
from approvals import Decided, Refused
from sessions import Home, SessionState


async def test_everyone_whose_message_the_model_answered_is_a_requester(
    make_engine: EngineFactory, home: Home, surface: RecordingSurface
) -> None:
    model = ScriptedModel([call("restart_service", {"service": "api"}), text("done")])
    engine = await make_engine(model=model)
    # Two messages drained into one turn: either author may have supplied the arguments.
    await two_askers_turn(engine)
    capsule = surface.cards[0]
    assert set(capsule.requesters) == {"U0ALICE", "U0BOB"}
    for asker in ("U0ALICE", "U0BOB"):
        refused = await engine.decide(capsule.id, user=asker, approve=True)
        assert isinstance(refused, Refused)
        assert "someone else must decide" in refused.reason
    assert isinstance(await engine.decide(capsule.id, user="U0CAROL", approve=True), Decided)
    await engine.idle()
    assert restarts(home) == 1


async def test_a_gate_rule_that_raises_fails_closed(
    make_engine: EngineFactory, home: Home, surface: RecordingSurface
) -> None:
    ran: list[int] = []

    def broken_rule(args: dict[str, Any]) -> bool:
        raise KeyError("replicas")

    @tool(requires_human_approval=broken_rule)
    def resize(size: int) -> str:
        """Resize."""
        ran.append(size)
        return "ok"

    model = ScriptedModel([call("resize", {"size": 3}), text("waiting")])
    engine = await make_engine(model=model, registry=ToolRegistry([resize]))
    await engine.ingest(message("resize", ts="1700000000.000100"))
    await engine.idle()
    assert ran == []
    assert [c.tool for c in surface.cards] == ["resize"]
    assert chain(home)[-1].state == SessionState.AWAITING_APPROVAL


async def test_the_kill_switch_freezes_an_approved_call_without_spending_it(
    make_engine: EngineFactory, home: Home, surface: RecordingSurface
) -> None:
    engine = await make_engine()
    await engine.ingest(message("restart api", ts="1700000000.000100"))
    await engine.idle()
    capsule = surface.cards[0]
    home.kill_switch.write_text("incident")
    await engine.decide(capsule.id, user="U0BOB", approve=True)
    await engine.idle()
    assert restarts(home) == 0
    # The card says Approved: the thread says why nothing runs yet, once.
    (said,) = [text for _, text in surface.replies if "kill switch" in text]
    assert "`restart_service` is approved" in said and "once it is off" in said
    await engine.decide(capsule.id, user="U0BOB", approve=True)  # a second click
    await engine.idle()
    assert len([t for _, t in surface.replies if "kill switch" in t]) == 1
    claim = home.session_dir(capsule.session_id) / "approvals" / f"{capsule.id}.claim.json"
    assert not claim.exists()
    home.kill_switch.unlink()
    engine.wake(THREAD)
    await engine.idle()
    assert restarts(home) == 1
    result = next(m for m in transcript(home) if isinstance(m, ToolResultMessage) and m.approval_id)
    assert result.status == "ok"


async def test_a_turn_the_kill_switch_cut_says_how_to_go_on_and_is_not_resumed_on_its_own(
    make_engine: EngineFactory, home: Home, surface: RecordingSurface
) -> None:
    # Pulled while a tool ran: the turn stops before the next model call. The switch may
    # have been pulled *because* of this turn, so it is not taken up again by itself when
    # the switch is off; the thread was told only "I stopped", and the person was left
    # waiting for an answer that never came.
    @tool
    def collect_logs(service: str) -> str:
        """Collect the logs of a service."""
        home.kill_switch.write_text("incident")  # the operator pulls it meanwhile
        return "42 lines"

    model = ScriptedModel([call("collect_logs", {"service": "api"}), text("here they are")])
    engine = await make_engine(model=model, registry=ToolRegistry([collect_logs]))
    await engine.ingest(message("collect the api logs", ts="1700000000.000100"))
    await engine.idle()
    (said,) = [t for _, t in surface.replies if "kill switch" in t]
    assert "stopped" in said and "mention me again once it is off" in said
    assert chain(home)[-1].state == SessionState.CANCELLED

    home.kill_switch.unlink()
    engine.wake(THREAD)
    await engine.idle()
    assert not any("here they are" in t for _, t in surface.replies)
    assert chain(home)[-1].state == SessionState.CANCELLED
