"""``signoff_approvals_total{outcome="expired"}`` and the ``approval_expired`` log line count
every expiry, also one that a click finds due before the sweep does: the click writes the
expiry then, and the sweep after it finds nothing left to expire."""

from __future__ import annotations

from datetime import timedelta

from engine_support import EngineFactory, message

from agent_core.observe import ApprovalExpired, DecisionRecorded, RecordingObserver
from approvals import AlreadyDecided
from sessions import FixedClock


async def test_a_click_that_finds_the_request_due_counts_one_expiry(
    make_engine: EngineFactory, clock: FixedClock
) -> None:
    observer = RecordingObserver()
    engine = await make_engine(observer=observer)
    await engine.ingest(message("restart api", ts="1700000000.000100"))
    await engine.idle()
    (waiting,) = await engine.waiting()
    clock.advance(timedelta(hours=25))  # due; the sweep has not run yet

    clicked = await engine.decide(waiting.capsule.id, user="U0BOB", approve=True)
    assert isinstance(clicked, AlreadyDecided) and clicked.decision.verdict == "expired"
    assert await engine.sweep() == 0
    await engine.idle()

    expired = [e for e in observer.events if isinstance(e, ApprovalExpired)]
    assert [e.approval_id for e in expired] == [waiting.capsule.id]
    assert expired[0].wait_seconds == 25 * 3600
    assert not [e for e in observer.events if isinstance(e, DecisionRecorded)]
