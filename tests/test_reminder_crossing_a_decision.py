"""A reminder or an escalation asks people to decide: one that a decision overtakes before
its post goes out is not posted. Seen in the governance chaos test (seed 86420): the
bot's sweep found a request undecided, a `signoff deny` from a terminal recorded its
decision a millisecond later, and the sweep then wrote and posted "Reminder 2 … please
approve or deny it" and an escalation, both after the denial."""

from __future__ import annotations

from datetime import timedelta

from engine_support import EngineFactory, message, replies

from agent_core.surface import RecordingSurface
from approvals import ApprovalRequest, NoGroups, Policy, PolicyRule, sweep_timers
from approvals.decisions import finalize
from sessions import FixedClock, Home, utc_iso

REMIND = PolicyRule(
    approver_users=("U0BOB",),
    remind_after_seconds=3600,
    escalate_after_seconds=3600,
    escalate_users=("U0CAROL",),
)


async def test_a_reminder_a_decision_overtook_is_not_posted(
    make_engine: EngineFactory, home: Home, surface: RecordingSurface
) -> None:
    policy = Policy(default=REMIND)
    engine = await make_engine(policy=policy)
    await engine.ingest(message("restart api", ts="1700000000.000100"))
    await engine.idle()
    (waiting,) = await engine.waiting()
    clock = engine.clock
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(hours=1, minutes=1))
    # The sweep writes the reminder and the escalation and queues their posts; with
    # nothing awaited in between (as another process would), a denial is recorded.
    assert await sweep_timers(home, policy=policy, clock=clock, groups=NoGroups())
    request = ApprovalRequest.open(home, waiting.capsule.id, clock=clock)
    finalize(request, verdict="denied", deciders=("U0BOB",), at=utc_iso(clock.now()))
    await engine.idle()
    said = replies(surface)
    assert not [t for t in said if "Reminder" in t or "escalated to" in t], said
