"""signoff's own vote-record (a sweep's discount, user "signoff") never counts as an approval.

A vote file named ``signoff.json`` is accepted after a session's seal (a sweep writes its
discounts there), so one that says it approves is read like any person's: before, such a
record, which signoff never writes, counted "signoff" as an approver, completed a quorum
with one person's approval and named "signoff" among the deciders, and the audit found no
fault with the session.
"""

from __future__ import annotations

from governance_support import approve, park, request

from approvals import SYSTEM, NoGroups, Policy, PolicyRule, VoteCounted
from approvals.quorum import complete_quorum
from approvals.records import Vote
from sessions import FixedClock, Home, utc_iso

RULE = PolicyRule(quorum=2)  # anyone may approve
POLICY = Policy(default=RULE)


async def test_a_vote_record_by_signoff_that_approves_counts_for_nothing(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock, RULE)
    req = request(home, capsule, clock)
    forged = Vote(
        approval_id=capsule.id,
        user=SYSTEM,
        approve=True,
        at=utc_iso(clock.now()),
        args_sha256=capsule.args_sha256,
    )
    assert req.write_vote(forged)
    assert req.approvals() == ()

    counted = await approve(home, capsule, "U0BOB", clock, policy=POLICY)
    assert isinstance(counted, VoteCounted) and counted.voters == ("U0BOB",), counted
    assert await complete_quorum(req, policy=POLICY, groups=NoGroups()) is None
    assert req.decision() is None
