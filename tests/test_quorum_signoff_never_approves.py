"""signoff's own vote-record (a sweep's discount, user "signoff") never counts as an approval.

A vote file named ``signoff.json`` is accepted after a session's seal (a sweep writes its
discounts there), so one that says it approves is read like any person's: before, such a
record, which signoff never writes, counted "signoff" as an approver, completed a quorum
with one person's approval and named "signoff" among the deciders, and the audit found no
fault with the session.
"""

from __future__ import annotations

from governance_support import approval_on_disk, approve, park, request

from approvals import SYSTEM, NoGroups, Policy, PolicyRule, VoteCounted
from approvals.quorum_completion import complete_quorum
from sessions import FixedClock, Home

RULE = PolicyRule(quorum=2)  # anyone may approve
POLICY = Policy(default=RULE)


async def test_a_vote_record_by_signoff_that_approves_counts_for_nothing(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock, RULE)
    req = request(home, capsule, clock)
    approval_on_disk(home, capsule, clock, SYSTEM)  # forged: signoff never approves
    assert req.approvals() == ()

    counted = await approve(home, capsule, "U0BOB", clock, policy=POLICY)
    assert isinstance(counted, VoteCounted) and counted.voters == ("U0BOB",), counted
    assert await complete_quorum(req, policy=POLICY, groups=NoGroups()) is None
    assert req.decision() is None
