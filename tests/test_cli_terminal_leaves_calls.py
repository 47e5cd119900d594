"""A terminal without the bot's tools never spends an approved call it cannot run.

``approve``, ``say`` and ``recover`` carry a thread on in their own process. Checking the
thread's approved calls before the turn was not enough (an independent review): a quorum
the terminal's own ``recover`` completed after its check, or a click the bot recorded while
the terminal's turn held the thread, was settled by that turn and told "not run: the tool
… is no longer registered", spending an approval the bot could still run. Now a turn in a
terminal leaves such a call to the bot (it waits, "not run yet"), and only a process whose
tools are the bot's refuses one whose tool is gone. Nor does a terminal without the tool
complete such a quorum any more (the bot may lack the tool too): a process that can tell
does (``runs_nothing`` in ``agent_core/approved_call.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from approvals import ApprovalRequest, Vote
from bot.cli import main
from sessions import Home, SystemClock, utc_iso

POLICY = '[default]\napprovers = ["U0BOB", "U0CAROL"]\nquorum = 2\n'
SAY = ["say", "--as", "U0ALICE", "--channel", "C0OPS", "--ts", "1700000000.000100"]


@pytest.fixture
def cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SIGNOFF_HOME", str(tmp_path / "h"))
    for name in ("SIGNOFF_MODEL", "SIGNOFF_CONFIG", "SIGNOFF_POLICY", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SIGNOFF_DEMO", "1")
    return tmp_path / "h"


def _asked(capsys: pytest.CaptureFixture[str]) -> str:
    assert main([*SAY, "restart api"]) == 0
    assert main(["recover"]) == 0  # as a bot's start: the rules recorded as in force
    capsys.readouterr()
    assert main(["pending"]) == 0
    return capsys.readouterr().out.strip().splitlines()[0].split()[0]


def test_a_quorum_recover_completes_is_left_to_the_bot(
    cli_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY)
    monkeypatch.setenv("SIGNOFF_POLICY", str(policy))
    approval = _asked(capsys)
    assert main(["approve", approval, "--as", "U0BOB"]) == 0
    # Carol's vote is on disk, the decision it completes is not: a crash between them.
    request = ApprovalRequest.open(Home(cli_home), approval, clock=SystemClock())
    at = utc_iso(SystemClock().now())
    request.arm_timer(at)
    vote = Vote(approval_id=approval, user="U0CAROL", approve=True, at=at, reason="")
    assert request.write_vote(vote.model_copy(update={"args_sha256": request.capsule.args_sha256}))
    capsys.readouterr()

    monkeypatch.setenv("SIGNOFF_DEMO", "0")  # a shell without the bot's tools
    # It cannot tell whether the bot has the tool (it may have left the bot's configuration
    # too): the quorum is left undecided, for a process that can tell to complete.
    main(["recover"])
    request = ApprovalRequest.open(Home(cli_home), approval, clock=SystemClock())
    assert request.decision() is None
    assert request.claimed() is None and request.told() is None, "spent by the terminal"

    monkeypatch.setenv("SIGNOFF_DEMO", "1")  # a process with the tool decides and runs it, once
    assert main(["recover"]) == 0
    request = ApprovalRequest.open(Home(cli_home), approval, clock=SystemClock())
    result = request.result()
    assert result is not None and result.ok, result


def test_approving_a_request_already_decided_says_so_whatever_the_tools(
    cli_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    approval = _asked(capsys)
    assert main(["approve", approval, "--as", "U0BOB"]) == 0
    capsys.readouterr()
    monkeypatch.setenv("SIGNOFF_DEMO", "0")
    assert main(["approve", approval, "--as", "U0CAROL"]) == 1
    said = capsys.readouterr()
    assert said.out.startswith("already decided: approved by U0BOB"), said
