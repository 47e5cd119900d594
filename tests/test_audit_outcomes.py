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

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from engine_support import message
from test_cli_errors import env_for, signoff

from agent_core.audit import audit_records
from agent_core.card_entries import card_view
from agent_core.engine import Engine
from approvals import ApprovalRequest, ExecutionResult, Vote
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


async def test_a_request_past_its_deadline_that_no_bot_swept_reads_expired_not_pending(
    make_engine: Any, home: Home, clock: FixedClock
) -> None:
    # `signoff pending` and the Home tab leave a request past its deadline out (it can
    # never run), but no decision is recorded until a bot's sweep writes one: the export
    # said "pending", the one place it still looked open.
    engine = await make_engine()
    await engine.ingest(message("restart api", ts="1700000001.000100"))
    await engine.idle()
    [waiting] = await engine.waiting()
    [record] = audit_records(home, now=clock.now())
    assert (record.status, record.outcome) == ("pending", "pending")
    clock.advance(timedelta(days=2))
    [record] = audit_records(home, now=clock.now())
    assert record.status == "pending"  # nothing is recorded: the status says so
    assert record.outcome == "expired, not yet recorded", record
    assert ApprovalRequest.open(home, waiting.capsule.id).decision() is None


async def test_the_command_judges_a_deadline_on_the_time_it_runs(
    make_engine: Any, home: Home
) -> None:
    # A request made (on the fixed clock) on 2026-11-02, 24 h to decide, never decided:
    # long expired when this runs. The export from a terminal says so, with no bot.
    engine = await make_engine()
    await engine.ingest(message("restart api", ts="1700000001.000100"))
    await engine.idle()
    await engine.close()
    done = await asyncio.to_thread(signoff, "audit", env=env_for(home.root))
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()
    assert json.loads(line)["outcome"] == "expired, not yet recorded"


async def test_a_request_past_its_deadline_whose_approvals_were_all_in_is_not_read_expired(
    make_engine: Any, home: Home, clock: FixedClock
) -> None:
    # A crash came between the last vote and the decision: the sweep approves such a
    # request, deadline or not (approvals.expiry), and its call can run. The export read
    # it "expired, not yet recorded" (it can never run), and the sweep then approved it.
    engine = await make_engine()
    await engine.ingest(message("restart api", ts="1700000001.000100"))
    await engine.idle()
    [waiting] = await engine.waiting()
    request = ApprovalRequest.open(home, waiting.capsule.id, clock=clock)
    vote = Vote(approval_id=request.id, user="U0BOB", approve=True, at=utc_iso(clock.now()))
    assert request.write_vote(vote)
    clock.advance(timedelta(days=2))
    [record] = audit_records(home, now=clock.now())
    assert (record.status, record.outcome) == ("pending", "pending"), record
    await engine.sweep()
    decision = ApprovalRequest.open(home, request.id).decision()
    assert decision is not None and decision.verdict == "approved"
