"""Escalation to people who could decide already: an on-call rota or group that names an
approver of the tool adds nobody by naming them, and says only what is new."""

from __future__ import annotations

from datetime import timedelta

from governance_support import TOOL, approve, park, posts, request, sweep

from approvals import Policy, PolicyRule, VoteCounted
from sessions import FixedClock, Home

RULE = PolicyRule(
    approver_users=("U0BOB", "U0CAROL"),
    approver_groups=("S0SRE",),
    quorum=2,
    escalate_after_seconds=3600,
    escalate_users=("U0BOB", "U0DAVE"),
    escalate_groups=("S0SRE", "S0ONCALL"),
    expires_after_seconds=24 * 3600,
)


async def test_escalation_names_and_pings_only_approvers_it_adds(
    home: Home, clock: FixedClock
) -> None:
    """Bob approved (one of two needed); at escalation the thread told him — pinged —
    that he "may now approve or deny it", though he could from the start and a second
    click of his counts for nothing; the same of the approvers' own group."""
    capsule = park(home, clock, RULE)
    assert isinstance(await approve(home, capsule, "U0BOB", clock), VoteCounted)
    clock.advance(timedelta(hours=1))
    await sweep(home, clock)
    req = request(home, capsule, clock)
    assert req.escalated_approvers() == ("U0DAVE", "S0ONCALL")
    text = posts(home)[f"escalate-{capsule.id}"]
    assert "escalated to <@U0DAVE> <!subteam^S0ONCALL>, who may now approve" in text
    assert "U0BOB" not in text and "S0SRE" not in text


async def test_an_approver_the_policy_in_force_dropped_is_still_added_when_escalated_to(
    home: Home, clock: FixedClock
) -> None:
    """A decision needs the captured and the current rule to allow the clicker, and an
    escalation counts under both. Bob, an approver when asked but no longer in the policy
    in force, named by the escalation: skipped as "already an approver", he could not
    decide at all, though the escalation names him."""
    capsule = park(home, clock, RULE)
    # The policy in force drops Bob as an approver but still escalates to him.
    still_escalating = RULE.model_copy(update={"approver_users": ("U0CAROL",)})
    current = Policy(tools={TOOL: still_escalating})
    clock.advance(timedelta(hours=1))
    await sweep(home, clock, current)
    req = request(home, capsule, clock)
    assert "U0BOB" in req.escalated_approvers()


async def test_an_approver_the_policy_in_force_no_longer_escalates_to_is_not_added(
    home: Home, clock: FixedClock
) -> None:
    """Both rules must allow an escalated approver too: a policy in force that names Carol
    alone and escalates to nobody adds nobody (tests/e2e/test_e2e_escalation_policy_change.py)."""
    capsule = park(home, clock, RULE)
    current = Policy(tools={TOOL: PolicyRule(approver_users=("U0CAROL",), quorum=2)})
    clock.advance(timedelta(hours=1))
    await sweep(home, clock, current)
    assert request(home, capsule, clock).escalated_approvers() == ()
