"""A quorum complete before the deadline stands after it, for a click as for the sweep.

Bob's and Carol's approvals were both on disk before the deadline, but a crash came
between Carol's vote and the decision, and no process ran until the deadline had passed.
The expiry sweep would approve the call (every vote was cast in time), yet a click after
the deadline (Dave's, or Bob's again to see what happened) expired it: which outcome the
request got depended on whether a click or the sweep came first. Now a click past the
deadline first completes such a quorum, of approvers the rules still allow, as the sweep
does; only short of one does it expire the request.
"""

from __future__ import annotations

from datetime import timedelta

from engine_support import EngineFactory, message
from governance_support import approval_on_disk, approve, park, request

from agent_core.observe import ApprovalExpired, DecisionRecorded, RecordingObserver
from approvals import AlreadyDecided, Policy, PolicyRule, VoteCounted
from sessions import FixedClock, Home

RULE = PolicyRule(quorum=2, approver_users=("U0BOB", "U0CAROL", "U0DAVE"))
POLICY = Policy(default=RULE)


async def test_a_click_after_the_deadline_keeps_a_quorum_complete_before_it(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock, RULE)
    assert isinstance(await approve(home, capsule, "U0BOB", clock, policy=POLICY), VoteCounted)
    approval_on_disk(home, capsule, clock, "U0CAROL")  # a crash came before the decision
    clock.advance(timedelta(days=2))  # past the deadline, no sweep ran

    clicked = await approve(home, capsule, "U0DAVE", clock, policy=POLICY)
    assert isinstance(clicked, AlreadyDecided), clicked
    assert clicked.decision.verdict == "approved", clicked.decision
    assert clicked.decision.deciders == ("U0BOB", "U0CAROL")
    assert clicked.completed_now and not clicked.expired_now


async def test_a_click_after_the_deadline_expires_a_request_short_of_a_quorum(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock, RULE)
    await approve(home, capsule, "U0BOB", clock, policy=POLICY)
    clock.advance(timedelta(days=2))
    clicked = await approve(home, capsule, "U0DAVE", clock, policy=POLICY)
    assert isinstance(clicked, AlreadyDecided) and clicked.expired_now
    assert clicked.decision.verdict == "expired"


async def test_a_turn_after_the_deadline_keeps_a_quorum_complete_before_it(
    make_engine: EngineFactory, home: Home, clock: FixedClock
) -> None:
    """The same, found by the turn a follow-up in the thread wakes before the sweep ran:
    it too approved the call only short of a quorum, and expired this one."""
    observer = RecordingObserver()
    engine = await make_engine(policy=POLICY, observer=observer)
    await engine.ingest(message("restart api", ts="1700000000.000100"))
    await engine.idle()
    (waiting,) = await engine.waiting()
    capsule = waiting.capsule
    assert isinstance(await approve(home, capsule, "U0BOB", clock, policy=POLICY), VoteCounted)
    approval_on_disk(home, capsule, clock, "U0CAROL")  # a crash came before the decision
    clock.advance(timedelta(days=2))  # past the deadline, no sweep ran

    await engine.ingest(message("status of db", ts="1700000000.000200"))
    await engine.idle()

    decided = request(home, capsule, clock).decision()
    assert decided is not None and decided.verdict == "approved", decided
    assert decided.deciders == ("U0BOB", "U0CAROL")
    assert not [e for e in observer.events if isinstance(e, ApprovalExpired)]
    recorded = [e for e in observer.events if isinstance(e, DecisionRecorded)]
    assert [(e.approval_id, e.user) for e in recorded] == [(capsule.id, "U0CAROL")]
