"""A terminal's approval beside group approvers' clicks, where the terminal cannot see groups.

``signoff approve`` has no approver-group members to ask. Bob approved from Slack as a
member of S0OPS (1 of 2); Dave, a named approver, completed the quorum from a terminal,
whose re-check of Bob took "no members" for "Bob left the group": Bob's approval was
discounted for good (a person votes once per version of the call), and the request
waited for a third approver. A terminal cannot judge who is in a group: it refuses, and records nothing.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from approvals import (
    ApprovalRequest,
    Decided,
    DecisionResult,
    StaticGroups,
    VoteCounted,
    decide,
    load_policy,
)
from bot.cli import main
from sessions import Home, SystemClock

POLICY = '[tools.restart_service]\napprovers = ["S0OPS", "U0DAVE"]\nquorum = 2\n'


@pytest.fixture
def cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY)
    monkeypatch.setenv("SIGNOFF_HOME", str(tmp_path / "h"))
    monkeypatch.setenv("SIGNOFF_POLICY", str(policy))
    monkeypatch.delenv("SIGNOFF_MODEL", raising=False)
    monkeypatch.delenv("SIGNOFF_CONFIG", raising=False)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.setenv("SIGNOFF_DEMO", "1")
    return tmp_path / "h"


def test_a_terminal_approval_does_not_discount_a_group_approver(
    cli_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    say = ["say", "--as", "U0ALICE", "--channel", "C0OPS", "--ts", "1700000000.000100"]
    assert main([*say, "restart api"]) == 0
    capsys.readouterr()
    assert main(["pending"]) == 0
    approval = capsys.readouterr().out.split()[0]
    home, policy = Home(cli_home), load_policy(tmp_path / "policy.toml")

    def clicked(user: str) -> DecisionResult:
        """A click in Slack, where the bot asks Slack who is in S0OPS."""
        slack = StaticGroups({"S0OPS": frozenset({"U0BOB"})})
        return asyncio.run(
            decide(home, approval, user=user, approve=True, policy=policy, groups=slack,
                   clock=SystemClock())
        )  # fmt: skip

    assert isinstance(clicked("U0BOB"), VoteCounted)
    assert main(["approve", approval, "--as", "U0DAVE"]) == 1
    said = capsys.readouterr().out
    assert "refused: signoff cannot check who is in its approver group without Slack" in said, said
    [bob] = ApprovalRequest.open(home, approval).votes(0)
    assert bob.user == "U0BOB" and not bob.discounted

    # Bob is still in S0OPS: Dave's approval, given where groups are known, completes it.
    dave = clicked("U0DAVE")
    assert isinstance(dave, Decided), dave
    assert dave.decision.deciders == ("U0BOB", "U0DAVE")
