"""``signoff audit`` says of an approved call what its records show: that it ran, that it
started and how it ended is not known, or that it was claimed and never started.

It read "ran: error" (or "ran: uncertain") from the result record alone, which a call that
never started also gets: claimed, and then stopped before its tool was called (the kill
switch pulled by another process, the approved arguments changed on disk, the process
killed). Whether it started is in the claiming session's tickets: an intent ticket is
written, and synced, before every tool call (``agent_core/executor.py``).
(The crash scenarios check the same through SIGKILL: tests/test_crash_safety.py.)
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from engine_support import message

from agent_core.audit import audit_records
from agent_core.card_entries import card_view
from agent_core.engine import Engine
from approvals import ApprovalRequest, ExecutionResult
from bot.cards import card_blocks
from sessions import FixedClock, Home, utc_iso


async def _approved_frozen(engine: Engine, home: Home) -> ApprovalRequest:
    """A request approved while the kill switch is on: decided, not claimed."""
    await engine.ingest(message("restart api", ts="1700000001.000100"))
    await engine.idle()
    [pending] = await engine.waiting()
    home.kill_switch.touch()
    await engine.decide(pending.capsule.id, user="U0BOB", approve=True)
    await engine.idle()
    request = ApprovalRequest.open(home, pending.capsule.id)
    assert request.claimed() is None
    return request


def _claimed_and_ended(request: ApprovalRequest, clock: FixedClock, **result: Any) -> None:
    """What another process writes when it claims the call and stops before the tool is
    called (settle's ``_ended``): the claim, then a result saying how it ended."""
    at = utc_iso(clock.now())
    session_id = request.capsule.session_id  # a real session, with no intent for the call
    request.claim(by_session=session_id, at=at)
    request.record_result(
        ExecutionResult(approval_id=request.id, session_id=session_id, at=at, **result)
    )


@pytest.mark.parametrize(
    "result",
    [
        # Refused after its claim (the kill switch pulled by another process): "ran: error".
        {"ok": False, "output": "not run: the kill switch is on"},
        # Its claiming process died; a later one recorded it uncertain: "ran: uncertain".
        {"ok": False, "output": "started once before", "uncertain": True},
    ],
    ids=["refused-after-claim", "claimer-died"],
)
async def test_a_call_claimed_but_never_started_reads_not_started(
    make_engine: Any, home: Home, clock: FixedClock, result: dict[str, Any]
) -> None:
    engine = await make_engine()
    request = await _approved_frozen(engine, home)
    _claimed_and_ended(request, clock, **result)
    [record] = audit_records(home)
    assert record.outcome == "claimed, not started", record
    # The card and the Home tab say the same: it said "ran: failed" (or "ran, outcome
    # uncertain") of a call whose tool was never called.
    view = card_view(ApprovalRequest.open(home, request.id))
    assert view.started is False
    shown = json.dumps(card_blocks(view))
    assert "not run: claimed, then stopped before its tool was called" in shown
    assert "ran: failed" not in shown and "ran, outcome uncertain" not in shown
    [decided] = await engine.recently_decided("U0BOB")
    assert decided.started is False


async def test_when_the_claiming_session_is_gone_whether_it_started_is_not_known(
    make_engine: Any, home: Home, clock: FixedClock
) -> None:
    engine = await make_engine()
    request = await _approved_frozen(engine, home)
    at = utc_iso(clock.now())
    request.claim(by_session="sess_000000000000", at=at)  # no such session
    request.record_result(
        ExecutionResult(
            approval_id=request.id, session_id="sess_000000000000", at=at, ok=False, output="x"
        )
    )
    [record] = audit_records(home)
    assert record.outcome == "error, not known whether it started", record
