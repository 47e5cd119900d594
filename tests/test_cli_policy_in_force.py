"""A terminal command never governs a home under rules other than the ones its cards show.

The bot ran with a policy asking two approvals of a restart; an operator's shell without
its ``SIGNOFF_POLICY`` (or a playground's ``dev/policy.toml``) ran the terminal commands
under the built-in default: a restart asked with ``signoff say`` took the default's rule
(one approval ran it), ``approve`` judged who may approve by the default's approvers, and
``recover`` showed every waiting card the default's rules as if the policy had changed. Now a command that
opens the engine compares its policy with the one the home's cards were last shown under
(``policy-applied.json``) and, when they differ, stops with one line saying so, exit 2,
having recorded nothing. A policy changed on purpose is applied by starting the bot.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from approvals import ApprovalRequest, load_policy
from approvals.policy_applied import applied_policy, record_applied
from bot.cli import main
from bot.dev import DEV_POLICY
from bot.one_bot import one_bot_per_home
from sessions import Home, SystemClock

STRICT = "[tools.restart_service]\nquorum = 2\n"
SAY = ["say", "--as", "U0ALICE", "--channel", "C0OPS", "--ts", "1700000000.000100"]


@pytest.fixture
def cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SIGNOFF_HOME", str(tmp_path / "h"))
    for name in ("SIGNOFF_MODEL", "SIGNOFF_CONFIG", "SIGNOFF_POLICY", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SIGNOFF_DEMO", "1")
    return tmp_path / "h"


def _counted_one_of_two(home: Path, approval: str) -> None:
    """Bob's approve from the terminal is taken, as one vote of the two asked for."""
    assert main(["approve", approval, "--as", "U0BOB"]) == 0
    request = ApprovalRequest.open(Home(home), approval, clock=SystemClock())
    assert request.decision() is None and list(request.counted(request.current())) == ["U0BOB"]


def _waiting(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> str:
    """A restart asked under the strict policy, which the home records as applied."""
    policy = tmp_path / "strict.toml"
    policy.write_text(STRICT)
    monkeypatch.setenv("SIGNOFF_POLICY", str(policy))
    assert main([*SAY, "restart api"]) == 0
    assert main(["recover"]) == 0  # as the bot's start: the cards' rules recorded
    assert applied_policy(Home(home)) is not None
    capsys.readouterr()
    assert main(["pending"]) == 0
    (line,) = capsys.readouterr().out.strip().splitlines()
    return line.split()[0]


@pytest.mark.parametrize("command", ["approve", "recover", "say"])
def test_a_command_under_another_policy_stops_and_records_nothing(
    cli_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    approval = _waiting(cli_home, tmp_path, monkeypatch, capsys)
    applied = applied_policy(Home(cli_home))
    monkeypatch.delenv("SIGNOFF_POLICY")  # an operator's shell without the bot's settings
    args = {
        "approve": ["approve", approval, "--as", "U0BOB"],
        "recover": ["recover"],
        "say": [*SAY[:-1], "1700000000.000200", "status of db"],
    }[command]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "policy" in err[0] and "policy-applied.json" in err[0], err
    request = ApprovalRequest.open(Home(cli_home), approval, clock=SystemClock())
    assert request.decision() is None and not request.counted(request.current())
    assert applied_policy(Home(cli_home)) == applied  # no card shown other rules


def test_the_same_policy_decides_as_before(
    cli_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    approval = _waiting(cli_home, tmp_path, monkeypatch, capsys)
    _counted_one_of_two(cli_home, approval)


def test_recover_puts_another_policy_in_force_when_asked(
    cli_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    approval = _waiting(cli_home, tmp_path, monkeypatch, capsys)
    monkeypatch.delenv("SIGNOFF_POLICY")
    assert main(["recover", "--apply-policy"]) == 0
    assert "rules_changed=1" in capsys.readouterr().out  # the waiting card shows them
    # Now the default is the policy in force: a terminal under it decides by it (the
    # request keeps the quorum it was asked under).
    _counted_one_of_two(cli_home, approval)


def test_a_playground_home_is_judged_by_its_own_policy(
    cli_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``signoff dev`` decides by ``dev/policy.toml`` and records it as in force: the
    terminal commands README's tour runs on that home (no SIGNOFF_POLICY) decide by it too,
    not by the default, which the check above would refuse."""
    playground = cli_home / "dev" / "policy.toml"
    playground.parent.mkdir(parents=True)
    playground.write_text(DEV_POLICY)
    Home(cli_home).ensure()
    record_applied(Home(cli_home), load_policy(playground))  # as its start does
    assert main([*SAY, "deploy web 2.1.0"]) == 0
    assert main(["pending"]) == 0
    (line,) = capsys.readouterr().out.strip().splitlines()[-1:]
    approval = line.split()[0]
    _counted_one_of_two(cli_home, approval)  # deploys need 2


@pytest.mark.parametrize("command", [["doctor"], ["recover"], [*SAY, "how is api?"]])
def test_a_playground_home_knows_its_fleet_without_signoff_demo(
    cli_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    """The playground's policy names the simulated fleet (``deploy_service``): a terminal
    judging by it on that home (README's tour, in a shell where SIGNOFF_DEMO was not
    exported) knows the fleet too, rather than stopping with "policy names unknown tools"."""
    monkeypatch.delenv("SIGNOFF_DEMO")
    playground = cli_home / "dev" / "policy.toml"
    playground.parent.mkdir(parents=True)
    playground.write_text(DEV_POLICY)
    Home(cli_home).ensure()
    record_applied(Home(cli_home), load_policy(playground))
    code = main(command)
    said = capsys.readouterr()
    assert "unknown tools" not in said.out + said.err, said
    assert code == 0, said  # and nothing else stopped it: a refusal of any kind would


def test_signoff_demo_0_keeps_the_fleet_away_from_a_playground_home(
    cli_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Asked for in so many words, no fleet: its policy then names tools unknown here."""
    monkeypatch.setenv("SIGNOFF_DEMO", "0")
    playground = cli_home / "dev" / "policy.toml"
    playground.parent.mkdir(parents=True)
    playground.write_text(DEV_POLICY)
    Home(cli_home).ensure()
    assert main(["recover"]) == 2
    assert "unknown tools" in capsys.readouterr().err


def test_recover_puts_no_policy_in_force_beside_a_running_bot(
    cli_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The bot decides by the policy it started with: another put in force beside it was
    shown on its cards and judged by nobody, and refused every terminal given the bot's."""
    _waiting(cli_home, tmp_path, monkeypatch, capsys)
    applied = applied_policy(Home(cli_home))
    monkeypatch.delenv("SIGNOFF_POLICY")
    with one_bot_per_home(Home(cli_home), command="run"):
        assert main(["recover", "--apply-policy"]) == 2
    (err,) = capsys.readouterr().err.strip().splitlines()
    assert "signoff run (pid " in err and " runs on " in err, err
    assert applied_policy(Home(cli_home)) == applied
