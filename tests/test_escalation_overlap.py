"""Escalation to people who could decide already: an on-call rota or group that names an
approver of the tool adds nobody by naming them, and says only what is new."""

from __future__ import annotations

from datetime import timedelta

from governance_support import approve, park, posts, request, sweep

from approvals import PolicyRule, VoteCounted
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
    sweep(home, clock)
    req = request(home, capsule, clock)
    assert req.escalated_approvers() == ("U0DAVE", "S0ONCALL")
    text = posts(home)[f"escalate-{capsule.id}"]
    assert "escalated to <@U0DAVE> <!subteam^S0ONCALL>, who may now approve" in text
    assert "U0BOB" not in text and "S0SRE" not in text
