"""``signoff_approvals_total{outcome="expired"}`` and the ``approval_expired`` log line count
every expiry, also one found due before the sweep: by a click, or by the turn a follow-up
in the thread wakes. Either writes the expiry then, and the sweep after it finds nothing
left to expire."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

import pytest
from engine_support import EngineFactory, message

from agent_core.observe import ApprovalExpired, DecisionRecorded, RecordingObserver
from approvals import AlreadyDecided
from sessions import FixedClock


@pytest.mark.parametrize("found_by", ["click", "turn"])
async def test_an_expiry_found_before_the_sweep_is_counted_once(
    make_engine: EngineFactory, clock: FixedClock, found_by: Literal["click", "turn"]
) -> None:
    observer = RecordingObserver()
    engine = await make_engine(observer=observer)
    await engine.ingest(message("restart api", ts="1700000000.000100"))
    await engine.idle()
    (waiting,) = await engine.waiting()
    clock.advance(timedelta(hours=25))  # due; the sweep has not run yet

    if found_by == "click":
        clicked = await engine.decide(waiting.capsule.id, user="U0BOB", approve=True)
        assert isinstance(clicked, AlreadyDecided) and clicked.decision.verdict == "expired"
    else:
        await engine.ingest(message("status of db", ts="1700000000.000200"))
    await engine.idle()
    assert await engine.sweep() == 0
    await engine.idle()

    expired = [e for e in observer.events if isinstance(e, ApprovalExpired)]
    assert [e.approval_id for e in expired] == [waiting.capsule.id]
    assert expired[0].wait_seconds == 25 * 3600
    assert not [e for e in observer.events if isinstance(e, DecisionRecorded)]
