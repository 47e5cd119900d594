"""Under an ``anyone`` rule only the installation's organization decides; a rule that
names a person (or a group they are in) opens it to them wherever they come from."""

from __future__ import annotations

import json

import pytest
from governance_support import park, request

from approvals import (
    Edit,
    Installation,
    Origin,
    Policy,
    PolicyRule,
    Refused,
    StaticGroups,
    Vote,
    VoteCounted,
    authorize,
    decide,
)
from sessions import FixedClock, Home

HOME = Installation(team="T0LOCAL")
GRID = Installation(team="T0LOCAL", enterprise="E0GRID")
ANYONE = PolicyRule()
NAMED = PolicyRule(approver_users=("U0GUEST",))
GROUP = PolicyRule(approver_groups=("S0OPS",))
GROUPS = StaticGroups({"S0OPS": frozenset({"U0GUEST"})})


async def _refusal(rule: PolicyRule, origin: Origin | None, user: str = "U0GUEST") -> str | None:
    return await authorize(
        user=user, requester="U0ALICE", snapshot=rule, current=rule, groups=GROUPS, origin=origin
    )


@pytest.mark.parametrize(
    ("installation", "team"),
    [(HOME, "T0PARTNER"), (HOME, ""), (GRID, "E0OTHER"), (GRID, "T0PARTNER")],
)
async def test_anyone_refuses_another_organization(installation: Installation, team: str) -> None:
    refusal = await _refusal(ANYONE, Origin(team=team, installation=installation))
    assert refusal is not None and "another organization" in refusal


@pytest.mark.parametrize(
    ("installation", "team"), [(HOME, "T0LOCAL"), (GRID, "T0LOCAL"), (GRID, "E0GRID")]
)
async def test_anyone_is_anyone_of_the_installation(installation: Installation, team: str) -> None:
    assert await _refusal(ANYONE, Origin(team=team, installation=installation)) is None


@pytest.mark.parametrize("rule", [NAMED, GROUP])
async def test_a_rule_that_names_them_opens_it_to_another_organization(rule: PolicyRule) -> None:
    assert await _refusal(rule, Origin(team="T0PARTNER", installation=HOME)) is None


async def test_an_escalation_that_names_them_counts_too() -> None:
    # Each rule counts whom an escalation added while it escalates to them.
    escalating = ANYONE.model_copy(
        update={"escalate_users": ("U0GUEST",), "escalate_after_seconds": 3600}
    )
    refusal = await authorize(
        user="U0GUEST",
        requester="U0ALICE",
        snapshot=escalating,
        current=escalating,
        groups=GROUPS,
        escalated=("U0GUEST",),
        origin=Origin(team="T0PARTNER", installation=HOME),
    )
    assert refusal is None
    # A rule in force that no longer escalates to them leaves them a guest under "anyone".
    dropped = await authorize(
        user="U0GUEST",
        requester="U0ALICE",
        snapshot=escalating,
        current=ANYONE,
        groups=GROUPS,
        escalated=("U0GUEST",),
        origin=Origin(team="T0PARTNER", installation=HOME),
    )
    assert dropped is not None and "another organization" in dropped


async def test_a_decision_without_an_origin_is_the_operators() -> None:
    """``signoff approve --as``: no click, no team; a local operator is the installation."""
    assert await _refusal(ANYONE, None) is None


async def test_the_requester_is_still_told_they_asked() -> None:
    refusal = await _refusal(ANYONE, Origin(team="T0PARTNER", installation=HOME), user="U0ALICE")
    assert refusal is not None and "someone else must decide" in refusal


async def test_a_guests_vote_toward_a_quorum_is_refused_and_not_written(
    home: Home, clock: FixedClock
) -> None:
    """Through the decision path a click takes: a guest's vote is not a vote."""
    rule = PolicyRule(quorum=2)
    capsule = park(home, clock, rule)
    policy = Policy(default=rule)
    guest = Origin(team="T0PARTNER", installation=HOME)
    result = await decide(
        home, capsule.id, user="U0GUEST", approve=True, policy=policy,
        groups=GROUPS, clock=clock, origin=guest,
    )  # fmt: skip
    assert isinstance(result, Refused) and "another organization" in result.reason
    assert request(home, capsule, clock).approvals(request(home, capsule, clock).current()) == ()
    ours = Origin(team="T0LOCAL", installation=HOME)
    counted = await decide(
        home, capsule.id, user="U0BOB", approve=True, policy=policy,
        groups=GROUPS, clock=clock, origin=ours,
    )  # fmt: skip
    assert isinstance(counted, VoteCounted) and counted.voters == ("U0BOB",)


def test_a_vote_names_its_organization_only_when_it_is_another() -> None:
    """A guest's vote is version 5, with the team it was cast from; any other vote is
    written as before (a version that reads up to 4 reads it), and an old one still reads."""
    base = {"approval_id": "appr_0123456789abcdef", "user": "U0GUEST", "approve": True}
    base |= {"at": "2026-12-07T09:00:00.000Z", "args_sha256": "a" * 64}
    guest = Vote(**base, origin=Origin(team="T0PARTNER", installation=HOME))
    dumped = json.loads(guest.model_dump_json())
    assert (dumped["schema_version"], dumped["origin"]["team"]) == (5, "T0PARTNER")
    assert Vote.model_validate_json(guest.model_dump_json()) == guest
    ours = json.loads(Vote(**base).model_dump_json())
    assert ours["schema_version"] == 2 and "origin" not in ours
    older = Vote.model_validate({**base, "schema_version": 4, "round": 2})
    assert older.origin is None


def test_an_edit_names_its_organization_only_when_it_is_another() -> None:
    """A guest's edit is version 2, with the team it was made from; any other edit is
    written as version 1 (every version reads it), and a version-1 edit still reads."""
    base = {"approval_id": "appr_0123456789abcdef", "n": 1, "user": "U0GUEST"}
    base |= {"at": "2026-12-07T09:00:00.000Z", "base_sha256": "a" * 64, "tool_version": "v"}
    base |= {"arguments": {"replicas": 6}, "args_sha256": "b" * 64, "changed": ("replicas",)}
    guest = Edit(**base, origin=Origin(team="T0PARTNER", installation=HOME))
    dumped = json.loads(guest.model_dump_json())
    assert (dumped["schema_version"], dumped["origin"]["team"]) == (2, "T0PARTNER")
    assert Edit.model_validate_json(guest.model_dump_json()) == guest
    ours = json.loads(Edit(**base).model_dump_json())
    assert ours["schema_version"] == 1 and "origin" not in ours
    assert Edit.model_validate(ours).origin is None
