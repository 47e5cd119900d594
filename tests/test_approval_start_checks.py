"""What holds when an approved call comes to start: the second clock and the kill switch
are read again right before the claim; a call refused then is shown as never run (card,
audit); an approval whose pointer is gone is still exported, and flagged."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from engine_support import call, message, text, transcript
from test_deferred_calls import Vault

from agent_core.audit import audit_records
from agent_core.card_entries import card_view
from agent_core.messages import ToolResultMessage
from agent_core.scripted import ScriptedModel
from agent_core.tools import ToolRegistry
from approvals import ApprovalRequest, Policy, PolicyRule
from bot.cards import card_blocks
from sessions import FixedClock, Home


class SlowToAnswer(Vault):
    """A gated tool whose availability check takes ``delay`` of the clock, as an MCP
    server being reconnected and re-listed (or waited for behind another call) does."""

    def __init__(self, clock: FixedClock, runs: list[dict[str, Any]]) -> None:
        super().__init__(runs)
        self.down = None
        self.clock = clock
        self.delay = timedelta(0)
        self.pull: Path | None = None  # a kill switch someone pulls meanwhile

    async def unavailable(self) -> str | None:
        self.clock.advance(self.delay)
        if self.pull is not None:
            self.pull.touch()
        return None


async def asked(
    make_engine: Any, surface: Any, tool: SlowToAnswer, policy: Policy | None = None
) -> tuple[Any, Any]:
    """An engine whose model asks for ``rotate_key(db)``, and the card of that request."""
    model = ScriptedModel([call("rotate_key", {"name": "db"}, "c1"), text("ok")], repeat_last=True)
    options = {} if policy is None else {"policy": policy}
    engine = await make_engine(model=model, registry=ToolRegistry([tool]), **options)
    await engine.ingest(message("rotate the db key", ts="1700000000.000100"))
    await engine.idle()
    (card,) = surface.cards
    return engine, card


def names(runs: list[dict[str, Any]]) -> list[str]:
    return [r["name"] for r in runs]


async def test_an_approval_that_goes_stale_while_its_tool_is_checked_never_starts(
    make_engine: Any, home: Home, clock: FixedClock, surface: Any
) -> None:
    """valid_for: the call may start only until ``valid_until``. The deadline was checked
    before the tool's availability was awaited, and not again before the claim: a check
    that outlasted the deadline let the call start after it."""
    runs: list[dict[str, Any]] = []
    tool = SlowToAnswer(clock, runs)
    policy = Policy(tools={"rotate_key": PolicyRule(valid_for_seconds=3600)})
    engine, card = await asked(make_engine, surface, tool, policy)
    tool.delay = timedelta(hours=2)  # the check ends an hour past the deadline
    await engine.decide(card.id, user="U0BOB", approve=True)
    await engine.idle()
    request = ApprovalRequest.open(home, card.id)
    decision = request.decision()
    assert decision is not None and decision.valid_until
    assert runs == [], "an approved call started after its approval went stale"
    assert request.claimed() is None and request.stale() is not None


async def test_a_kill_switch_pulled_while_the_tool_is_asked_freezes_the_call_unspent(
    make_engine: Any, home: Home, clock: FixedClock, surface: Any
) -> None:
    """The kill switch freezes an approved call, unclaimed, until it is off. It was read
    before the tool's availability was awaited, and next only inside ``execute``, after the
    claim: a switch pulled meanwhile spent the approval on a call that never ran, and the
    card said it "ran: failed"."""
    runs: list[dict[str, Any]] = []
    tool = SlowToAnswer(clock, runs)
    engine, card = await asked(make_engine, surface, tool)
    tool.pull = home.kill_switch  # an operator pulls it while the server reconnects
    await engine.decide(card.id, user="U0BOB", approve=True)
    await engine.idle()
    request = ApprovalRequest.open(home, card.id)
    assert runs == []
    assert request.claimed() is None and request.result() is None, (
        "the kill switch spent an approval on a call that never ran"
    )

    tool.pull = None
    home.kill_switch.unlink()
    await engine.sweep()
    await engine.idle()
    assert names(runs) == ["db"]
    result = ApprovalRequest.open(home, card.id).result()
    assert result is not None and result.ok


class Reshaped(SlowToAnswer):
    """The same tool, whose input schema (so its version) changes while a request waits."""

    reshaped = False

    @property
    def schema(self) -> dict[str, Any]:
        schema = dict(super().schema)
        if self.reshaped:
            schema["properties"] = {**schema["properties"], "force": {"type": "boolean"}}
        return schema


async def test_an_approved_call_refused_at_start_is_not_shown_as_still_to_run(
    make_engine: Any, home: Home, clock: FixedClock, surface: Any
) -> None:
    """An approved call that fails its checks when it is to start (here: the tool changed
    since it was approved) never runs, and the model is told so. The card and the audit
    export said only "approved" and "approved, not run yet", as if it still might."""
    runs: list[dict[str, Any]] = []
    tool = Reshaped(clock, runs)
    engine, card = await asked(make_engine, surface, tool)
    # Approved while the kill switch held it, changed before it started (a click after
    # the change is refused at once: tests/e2e/test_e2e_tool_gone_click.py).
    home.kill_switch.touch()
    await engine.decide(card.id, user="U0BOB", approve=True)
    await engine.idle()
    tool.reshaped = True
    home.kill_switch.unlink()
    await engine.sweep()
    await engine.idle()
    request = ApprovalRequest.open(home, card.id)
    assert runs == [] and request.told() is not None
    told = [m for m in transcript(home) if isinstance(m, ToolResultMessage) and m.call_id == "c1"]
    assert [m.status for m in told] == ["error"] and "not run" in told[0].content

    (record,) = list(audit_records(home))
    assert record.status == "approved"
    assert record.outcome != "approved, not run yet" and "not run" in record.outcome

    shown = json.dumps(card_blocks(card_view(request)), ensure_ascii=False)
    assert "not run" in shown, "the card shows an approved call that will never run as approved"


async def test_an_approval_whose_pointer_was_removed_is_still_exported_and_flagged(
    make_engine: Any, home: Home, surface: Any
) -> None:
    """The export found approvals only through their pointers: removing
    ``$SIGNOFF_HOME/approvals/<id>`` hid a decided, executed approval from it, unflagged,
    while its capsule still sat in its sealed session."""
    engine = await make_engine(policy=Policy(default=PolicyRule(approver_users=("U0BOB",))))
    await engine.ingest(message("restart api", ts="1700000000.000100"))
    await engine.idle()
    (card,) = surface.cards
    await engine.decide(card.id, user="U0BOB", approve=True)
    await engine.idle()
    home.pointer_path(card.id).unlink()

    records = {r.approval_id: r for r in audit_records(home)}
    assert card.id in records, "an approval vanished from the audit export"
    record = records[card.id]
    assert record.flagged and record.status == "approved" and record.outcome == "ran: ok"


async def test_a_waiting_card_shows_the_window_a_decision_would_give(
    make_engine: Any, home: Home, clock: FixedClock, surface: Any
) -> None:
    """A policy tightened after the request: the decision gives the shorter ``valid_for``
    of the captured and the current rule, so the card waiting for it must say that one
    (it said the captured hour while an approval would hold for ten minutes)."""
    runs: list[dict[str, Any]] = []
    captured = Policy(tools={"rotate_key": PolicyRule(valid_for_seconds=3600)})
    engine, card = await asked(make_engine, surface, SlowToAnswer(clock, runs), captured)
    request = ApprovalRequest.open(home, card.id)
    tightened = Policy(tools={"rotate_key": PolicyRule(valid_for_seconds=600)})
    shown = json.dumps(card_blocks(card_view(request, tightened)), ensure_ascii=False)
    assert "*Valid after approval*\\n10m" in shown, shown
    # Loosened (or no window now): the captured hour still binds.
    for current in (Policy(tools={"rotate_key": PolicyRule(valid_for_seconds=7200)}), Policy()):
        shown = json.dumps(card_blocks(card_view(request, current)), ensure_ascii=False)
        assert "*Valid after approval*\\n1h" in shown, shown
    assert runs == []
