"""A person whose approval was discounted may approve again, and counts once.

Carol's approval, completing a quorum, found Bob no longer in the approver group and
discounted his vote; back in the group, Bob was told "You already approved this request"
(a person voted once per version of the call) though nothing of his counted. A new
approval is a vote of its own (``<user>.<n>.json``, Vote version 4), counted while no
later vote discounts it; a discount names the very vote it discounts, so an earlier
one never lets a later one count twice, nor a later one revive an earlier one.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from governance_support import approve, park, request

from agent_core.audit import audit_records
from approvals import (
    AlreadyVoted,
    Decided,
    Policy,
    PolicyRule,
    Vote,
    VoteCounted,
)
from sessions import FixedClock, Home

GROUP = "S0OPS"
RULE = PolicyRule(quorum=3, approver_groups=(GROUP,))
POLICY = Policy(default=RULE)


class Members:
    """Who Slack says is in the approver group, changed as the test goes."""

    def __init__(self, *users: str) -> None:
        self.now = frozenset(users)

    async def members(self, group_id: str) -> frozenset[str]:
        return self.now if group_id == GROUP else frozenset()

    async def can_see(self, channel: str, user: str) -> bool:
        return True  # the cards are in a public channel


def _written(home: Home, approval_id: str) -> dict[str, dict[str, Any]]:
    found = home.root.glob(f"sessions/**/approvals/{approval_id}.votes/*.json")
    return {path.name: json.loads(path.read_bytes()) for path in found}


async def test_a_discounted_approver_approves_again_and_counts_once(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock, RULE)
    group = Members("U0BOB", "U0FRANK", "U0CAROL", "U0DAVE")

    async def by(user: str) -> object:
        clock.advance(timedelta(minutes=1))
        return await approve(home, capsule, user, clock, policy=POLICY, groups=group)

    assert isinstance(await by("U0BOB"), VoteCounted)
    assert isinstance(await by("U0FRANK"), VoteCounted)
    group.now = frozenset({"U0CAROL", "U0DAVE"})
    carol = await by("U0CAROL")  # would complete it: Bob and Frank are discounted
    assert isinstance(carol, VoteCounted) and carol.voters == ("U0CAROL",)

    group.now = frozenset({"U0BOB", "U0CAROL", "U0DAVE"})
    bob = await by("U0BOB")
    assert isinstance(bob, VoteCounted), bob
    assert bob.voters == ("U0CAROL", "U0BOB")
    assert isinstance(await by("U0BOB"), AlreadyVoted)  # his new vote counts once
    assert request(home, capsule, clock).approvals() == ("U0CAROL", "U0BOB")

    # He leaves again: Dave's approval discounts his second vote, not his first again.
    group.now = frozenset({"U0CAROL", "U0DAVE"})
    dave = await by("U0DAVE")
    assert isinstance(dave, VoteCounted) and dave.voters == ("U0CAROL", "U0DAVE")
    group.now = frozenset({"U0BOB", "U0CAROL", "U0DAVE"})
    last = await by("U0BOB")
    assert isinstance(last, Decided), last
    assert last.decision.deciders == ("U0CAROL", "U0DAVE", "U0BOB")

    written = _written(home, capsule.id)
    assert written["U0CAROL.json"]["discounted"] == ["U0BOB", "U0FRANK"]
    assert written["U0DAVE.json"]["discounted"] == ["U0BOB.2"]
    # A vote past a person's first, or naming one, is version 4: a version that knows
    # votes up to 3 refuses it rather than read it as a second vote of the same person
    # (or a discount of everything Bob ever gave).
    assert (written["U0BOB.2.json"]["schema_version"], written["U0BOB.2.json"]["round"]) == (4, 2)
    assert (written["U0BOB.3.json"]["schema_version"], written["U0BOB.3.json"]["round"]) == (4, 3)
    assert written["U0DAVE.json"]["schema_version"] == 4
    assert written["U0CAROL.json"]["schema_version"] == 3
    assert written["U0BOB.json"]["schema_version"] == 2 and "round" not in written["U0BOB.json"]
    [record] = audit_records(home, now=clock.now())
    assert [v.user for v in record.votes].count("U0BOB") == 3
    # Votes come after the parked session's seal: U0BOB.2.json is one, not tampering.
    assert record.seal == "ok" and not record.problems, record


def test_a_vote_written_before_rounds_reads_as_a_first_vote() -> None:
    """A version-3 vote's discount names a person: it discounts their first approval."""
    old = Vote.model_validate_json(
        '{"schema_version": 3, "approval_id": "a", "user": "U0CAROL", "approve": true,'
        ' "at": "2026-11-02T09:00:00Z", "discounted": ["U0BOB"]}'
    )
    assert (old.key, old.discounted) == ("U0CAROL", ("U0BOB",))
