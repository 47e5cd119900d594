"""An approved call whose tool cannot run now is deferred, never spent (issue 10's rule).

The approval stays decided and unclaimed; the thread is told once, plainly; the sweep tries
again when the retry is due (and a restart tries at once); when the tool is back the exact
call runs once and its outcome is told.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from engine_support import call, message, replies, text, transcript

from agent_core.messages import EventMessage, ToolResultMessage
from agent_core.scripted import ScriptedModel
from agent_core.tools import Tool, ToolContext, ToolRegistry
from approvals import ApprovalRequest, Policy, PolicyRule
from sessions import FixedClock, Home, from_utc_iso


class Vault(Tool):
    """A gated tool whose availability the test switches, as an MCP server comes and goes."""

    def __init__(self, runs: list[dict[str, Any]]) -> None:
        super().__init__(name="rotate_key", description="Rotate a key.")
        self.runs = runs
        self.down: str | None = "the vault is sealed"

    @property
    def schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {"name": {"type": "string"}},
            "required": ["name"],
            "additionalProperties": False,
        }

    def validate(self, arguments: dict[str, Any]) -> dict[str, Any]:
        if set(arguments) != {"name"} or not isinstance(arguments["name"], str):
            raise ValueError("rotate_key wants exactly a string name")
        return dict(arguments)

    def gated(self, arguments: dict[str, Any]) -> bool:
        return True

    async def call(self, arguments: dict[str, Any], context: ToolContext) -> str:
        self.runs.append({"name": arguments["name"], "approval": context.approval_id})
        return f"rotated {arguments['name']}"

    async def unavailable(self) -> str | None:
        return self.down


def _model() -> ScriptedModel:
    return ScriptedModel([call("rotate_key", {"name": "db"}, "c1"), text("done")], repeat_last=True)


async def asked_and_approved(engine: Any, surface: Any) -> Any:
    """The card of ``rotate_key(db)`` asked for in a message, once U0BOB approved it."""
    await engine.ingest(message("rotate the db key", ts="1700000000.000100"))
    await engine.idle()
    (card,) = surface.cards
    await engine.decide(card.id, user="U0BOB", approve=True)
    await engine.idle()
    return card


async def test_a_deferred_call_is_told_once_retried_when_due_and_runs_once(
    make_engine: Any, home: Home, clock: FixedClock, surface: Any
) -> None:
    runs: list[dict[str, Any]] = []
    vault = Vault(runs)
    engine = await make_engine(model=_model(), registry=ToolRegistry([vault]))
    card = await asked_and_approved(engine, surface)
    request = ApprovalRequest.open(home, card.id)
    assert runs == [] and request.claimed() is None, (
        "the approval was spent on a tool that was down"
    )
    assert [d.reason for d in request.deferrals()] == ["the vault is sealed"]
    said = [r for r in replies(surface) if "did not run" in r]
    assert len(said) == 1 and "the vault is sealed" in said[0] and "Nothing ran" in said[0]

    # Not due yet: a sweep does nothing.
    await engine.sweep()
    await engine.idle()
    assert len(request.deferrals()) == 1

    # Due, still down: tried again, silently (the thread was told once).
    clock.advance(timedelta(seconds=31))
    await engine.sweep()
    await engine.idle()
    assert len(request.deferrals()) == 2 and runs == []
    assert len([r for r in replies(surface) if "did not run" in r]) == 1

    # Due and back: the exact approved call runs once and its outcome is told.
    vault.down = None
    clock.advance(timedelta(minutes=2))
    await engine.sweep()
    await engine.idle()
    assert runs == [{"name": "db", "approval": card.id}]
    request = ApprovalRequest.open(home, card.id)
    assert request.claimed() is not None and request.told() is not None
    told = [m for m in transcript(home) if isinstance(m, EventMessage) and m.approval_id == card.id]
    assert len(told) == 1 and told[0].status == "ok"
    slot = [m for m in transcript(home) if isinstance(m, ToolResultMessage) and m.call_id == "c1"]
    assert [m.status for m in slot] == ["pending"]  # the slot said it waited; the event told
    await engine.sweep()
    await engine.idle()
    assert len(runs) == 1


async def test_a_restart_tries_a_deferred_call_at_once(
    make_engine: Any, home: Home, surface: Any
) -> None:
    runs: list[dict[str, Any]] = []
    engine = await make_engine(model=_model(), registry=ToolRegistry([Vault(runs)]))
    await asked_and_approved(engine, surface)
    await engine.close()
    assert runs == []

    back = Vault(runs)  # fixed while signoff was down; the retry is not due by the clock
    back.down = None
    engine = await make_engine(model=_model(), registry=ToolRegistry([back]))
    await engine.recover()
    await engine.idle()
    assert [r["name"] for r in runs] == ["db"]


async def test_a_deferred_call_whose_window_closes_first_is_said_stale_when_it_closes(
    make_engine: Any, home: Home, clock: FixedClock, surface: Any
) -> None:
    """valid_for shorter than the retry back-off: the next try was due after the approval
    went stale, so the card and the thread kept saying it would run for up to ten minutes
    past its deadline. The retry is due when the window closes at the latest."""
    runs: list[dict[str, Any]] = []
    policy = Policy(tools={"rotate_key": PolicyRule(valid_for_seconds=20)})
    engine = await make_engine(model=_model(), registry=ToolRegistry([Vault(runs)]), policy=policy)
    card = await asked_and_approved(engine, surface)
    request = ApprovalRequest.open(home, card.id)
    decision = request.decision()
    assert decision is not None and decision.valid_until
    (deferral,) = request.deferrals()
    closes = from_utc_iso(decision.valid_until) + timedelta(seconds=1)  # stale: past it
    assert from_utc_iso(deferral.retry_at) <= closes
    clock.advance(timedelta(seconds=21))
    await engine.sweep()
    await engine.idle()
    assert request.stale() is not None and runs == []
    assert request.claimed() is None


class SlowlyDown(Vault):
    """Down, and slow to say so (a reconnect that times out): ``delay`` of the clock."""

    def __init__(self, runs: list[dict[str, Any]], clock: FixedClock) -> None:
        super().__init__(runs)
        self.clock = clock
        self.delay = timedelta(0)

    async def unavailable(self) -> str | None:
        self.clock.advance(self.delay)
        return self.down


async def test_a_window_that_closes_while_the_tool_is_asked_is_said_stale_at_the_next_sweep(
    make_engine: Any, home: Home, clock: FixedClock, surface: Any
) -> None:
    """The window closed during the wait for the tool: the retry fell back to the full
    back-off (30 s, growing to 10 minutes) for a call already stale."""
    runs: list[dict[str, Any]] = []
    vault = SlowlyDown(runs, clock)
    policy = Policy(tools={"rotate_key": PolicyRule(valid_for_seconds=20)})
    engine = await make_engine(model=_model(), registry=ToolRegistry([vault]), policy=policy)
    vault.delay = timedelta(seconds=25)  # past the window, while asking
    card = await asked_and_approved(engine, surface)
    request = ApprovalRequest.open(home, card.id)
    (deferral,) = request.deferrals()
    assert deferral.retry_at <= deferral.at  # due at once: stale on the next look
    vault.delay = timedelta(0)
    await engine.sweep()
    await engine.idle()
    assert request.stale() is not None and runs == [] and request.claimed() is None
