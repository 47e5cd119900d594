"""Governance under crashes and restarts: a new Engine on the same home between steps."""

from __future__ import annotations

from datetime import timedelta

from engine_support import EngineFactory, message, restarts, transcript
from governance_support import park, request

from agent_core.messages import ToolResultMessage
from agent_core.surface import RecordingSurface
from approvals import (
    ApprovalRequest,
    Policy,
    PolicyRule,
    QuorumCompleted,
    Timers,
    Vote,
    sweep_timers,
)
from sessions import FixedClock, Home, utc_iso

QUORUM_VALID = Policy.from_mapping(
    {
        "tools": {
            "restart_service": {
                "approvers": ["U0BOB", "U0CAROL"],
                "quorum": 2,
                "valid_for": "5m",
            }
        }
    },
    source="test",
)


async def test_a_quorum_a_crash_left_undecided_is_approved_when_its_last_vote_came(
    make_engine: EngineFactory, home: Home, clock: FixedClock, surface: RecordingSurface
) -> None:
    """Carol's vote completed the quorum at 09:00 and the process died before the decision.
    The sweep that finds it hours later must not date the approval from then: the call had
    5 minutes to start after the approvers approved, so it is stale, never run."""
    engine = await make_engine(policy=QUORUM_VALID)
    await engine.ingest(message("restart api", ts="1700000000.000100"))
    await engine.idle()
    (approval,) = [c.id for c in surface.cards]
    await engine.decide(approval, user="U0BOB", approve=True)
    request = ApprovalRequest.open(home, approval, clock=clock)
    at = utc_iso(clock.now())
    # What record_decision leaves when killed after the completing vote: marker, vote.
    request.arm_timer(at)
    vote = Vote(approval_id=approval, user="U0CAROL", approve=True, at=at, reason="")
    assert request.write_vote(vote.model_copy(update={"args_sha256": request.capsule.args_sha256}))
    await engine.close()

    clock.advance(timedelta(hours=3))
    engine = await make_engine(policy=QUORUM_VALID)
    await engine.recover()
    await engine.idle()
    decision = ApprovalRequest.open(home, approval, clock=clock).decision()
    assert decision is not None and decision.verdict == "approved"
    assert decision.at == at and decision.deciders == ("U0BOB", "U0CAROL")
    assert restarts(home) == 0
    result = [m for m in transcript(home) if isinstance(m, ToolResultMessage)][-1]
    assert "went stale" in result.content
    assert Timers(home).armed(approval) == []


async def test_the_sweep_dates_a_stranded_quorum_from_its_completing_vote(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock, PolicyRule(quorum=2, valid_for_seconds=600))
    req = request(home, capsule, clock)
    for user, minutes in (("U0BOB", 0), ("U0CAROL", 7)):
        at = utc_iso(clock.now() + timedelta(minutes=minutes))
        req.write_vote(
            Vote(
                approval_id=capsule.id,
                user=user,
                approve=True,
                at=at,
                args_sha256=capsule.args_sha256,
            )
        )
    req.arm_timer(at)
    clock.advance(timedelta(hours=6))
    (step,) = sweep_timers(home, policy=Policy(), clock=clock)
    assert isinstance(step, QuorumCompleted)
    decision = request(home, capsule, clock).decision()
    assert decision is not None and decision.at == at
    assert decision.valid_until == utc_iso(clock.now() - timedelta(hours=6) + timedelta(minutes=17))
