"""The sweep that finishes a quorum asks, as a completing click does, whether each
approver may still decide.

The policy in force asked for 3 approvals while Bob and Carol approved (2 of 3: no
approval completed anything, so nobody was asked again); Bob left the approver group;
the policy went back to 2. The timer sweep then approved the call on Bob's and Carol's
votes, and so did the expiry sweep at the deadline: the call ran on the vote of someone
the rules no longer allowed. Likewise after a crash between a completing vote and its
decision, when an approver left before the sweep came. Now the sweep asks about every
approver: it decides only with a quorum of those still allowed, leaves the request to a
click or the deadline otherwise, and decides nothing while Slack cannot say.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from governance_support import approve, park, request

from approvals import (
    MembershipUnknown,
    Policy,
    PolicyRule,
    QuorumCompleted,
    VoteCounted,
    sweep_timers,
)
from bot.cli import main
from sessions import FixedClock, Home

GROUP = "S0OPS"
RULE = PolicyRule(quorum=2, approver_groups=(GROUP,), remind_after_seconds=600)
STRICTER = Policy(default=PolicyRule(quorum=3, approver_groups=(GROUP,)))
BACK = Policy(default=RULE)


class Members:
    """Who Slack says is in the approver group (None: Slack cannot say just now)."""

    def __init__(self, *users: str) -> None:
        self.now: frozenset[str] | None = frozenset(users)

    async def members(self, group_id: str) -> frozenset[str]:
        if self.now is None:
            raise MembershipUnknown(group_id)
        return self.now if group_id == GROUP else frozenset()

    async def can_see(self, channel: str, user: str) -> bool:
        return True  # the cards are in a public channel


async def test_the_sweep_completes_a_quorum_only_with_approvers_still_allowed(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock, RULE)
    group = Members("U0BOB", "U0CAROL", "U0DAVE")
    for user in ("U0BOB", "U0CAROL"):
        voted = await approve(home, capsule, user, clock, policy=STRICTER, groups=group)
        assert isinstance(voted, VoteCounted) and voted.quorum == 3
    group.now = frozenset({"U0CAROL", "U0DAVE"})
    clock.advance(timedelta(minutes=11))  # the first reminder is due: the sweep looks

    await sweep_timers(home, policy=BACK, clock=clock, groups=group)
    assert request(home, capsule, clock).decision() is None

    # Dave's approval completes it, with Carol's: Bob's is discounted.
    dave = await approve(home, capsule, "U0DAVE", clock, policy=BACK, groups=group)
    decided = request(home, capsule, clock).decision()
    assert decided is not None, dave
    assert decided.deciders == ("U0CAROL", "U0DAVE")


async def test_the_sweep_decides_nothing_while_slack_cannot_say(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock, RULE)
    group = Members("U0BOB", "U0CAROL")
    for user in ("U0BOB", "U0CAROL"):
        await approve(home, capsule, user, clock, policy=STRICTER, groups=group)
    group.now = None
    clock.advance(timedelta(minutes=11))
    await sweep_timers(home, policy=BACK, clock=clock, groups=group)
    assert request(home, capsule, clock).decision() is None

    # Slack answers again, both are still in the group: the next pass completes it.
    group.now = frozenset({"U0BOB", "U0CAROL"})
    clock.advance(timedelta(seconds=5))
    steps = await sweep_timers(home, policy=BACK, clock=clock, groups=group)
    assert [type(s) for s in steps] == [QuorumCompleted]
    decided = request(home, capsule, clock).decision()
    assert decided is not None and decided.deciders == ("U0BOB", "U0CAROL")


def _export(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], home: Home, *args: str
) -> str:
    monkeypatch.setenv("SIGNOFF_HOME", str(home.root))
    for name in ("SIGNOFF_POLICY", "SIGNOFF_CONFIG", "SIGNOFF_MODEL"):
        monkeypatch.delenv(name, raising=False)
    capsys.readouterr()
    assert main(["audit", *args]) == 0
    return capsys.readouterr().out


async def test_the_audit_says_the_sweeps_discount_is_no_approval(
    home: Home,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The sweep's record of an approval that no longer counts is kept as a vote by
    "signoff"; the export listed it among the votes like an approval (JSON: no flag;
    CSV: ``signoff@<hash> <time>``, as any approver's vote reads)."""
    capsule = park(home, clock, RULE)
    group = Members("U0BOB", "U0CAROL", "U0DAVE")
    for user in ("U0BOB", "U0CAROL"):
        await approve(home, capsule, user, clock, policy=STRICTER, groups=group)
    group.now = frozenset({"U0CAROL", "U0DAVE"})
    clock.advance(timedelta(minutes=11))
    await sweep_timers(home, policy=BACK, clock=clock, groups=group)
    await approve(home, capsule, "U0DAVE", clock, policy=BACK, groups=group)

    (line,) = _export(monkeypatch, capsys, home).splitlines()
    votes = {v["user"]: v for v in json.loads(line)["votes"]}
    assert [u for u, v in votes.items() if v["approve"]] == ["U0BOB", "U0CAROL", "U0DAVE"]
    assert not votes["signoff"]["approve"] and votes["signoff"]["discounted"] == ["U0BOB"]
    header, row = csv.reader(io.StringIO(_export(monkeypatch, capsys, home, "--format", "csv")))
    cells = dict(zip(header, row, strict=True))["votes"].split("; ")
    assert [c.split("@")[0] for c in cells if "@" in c] == ["U0BOB", "U0CAROL", "U0DAVE"]
    assert f"signoff {votes['signoff']['at']}: no longer counting U0BOB" in cells
    # signoff.json is a vote file whose name is what it holds: no problem, and verify is
    # clean (its content checked against its name, as every vote file's).
    assert json.loads(line)["problems"] == []
    capsys.readouterr()
    assert main(["verify"]) == 0, capsys.readouterr().out
