"""Governed requests from the terminal: after an edit ``signoff approve`` names the hash it
approves, and ``signoff pending`` shows a quorum's votes so far."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_support import ask_and_edit
from helpers_proc import THREAD_TS, cli, close_fork_servers, decide, ok, pending_ids, say

from agent_core.demo_fleet import demo_registry
from agent_core.engine import Engine
from agent_core.offline import OfflineModel
from approvals import load_policy
from bot.cli import main
from sessions import Home


@pytest.fixture(scope="module", autouse=True)
def _fork_servers() -> Iterator[None]:
    yield
    close_fork_servers()


async def _ask_and_edit(root: Path, policy: Path) -> tuple[str, str]:
    """Alice asks in a thread; Carol edits (and so approves) the call: 1 of 2."""
    engine = await Engine.open(
        home=Home(root),
        surface=None,
        model=OfflineModel(),
        registry=demo_registry(),
        policy=load_policy(policy),
    )
    try:
        approval, edit = await ask_and_edit(engine)
        return approval, edit.edit.args_sha256
    finally:
        await engine.close()


def _edited_in(root: Path, policy: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """The terminal's environment on ``root`` under a quorum of two for scale_service, and
    a request Carol edited there: its id and the edited hash."""
    policy.write_text('[tools.scale_service]\nquorum = 2\napprovers = ["U0BOB", "U0CAROL"]\n')
    for name, value in {
        "SIGNOFF_HOME": str(root),
        "SIGNOFF_POLICY": str(policy),
        "SIGNOFF_DEMO": "1",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("SIGNOFF_MODEL", "SIGNOFF_CONFIG", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return asyncio.run(_ask_and_edit(root, policy))


def test_approve_from_the_terminal_needs_the_hash_of_edited_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "h"
    approval, edited = _edited_in(root, tmp_path / "policy.toml", monkeypatch)

    capsys.readouterr()
    assert main(["approve", approval, "--as", "U0BOB"]) == 1
    out = capsys.readouterr().out
    assert "refused: the arguments were edited after you saw them" in out
    assert f"now hash {edited[:12]}" in out
    # A hash of no version at all is a wrong hash, whose line says the request was edited.
    assert main(["approve", approval, "--as", "U0BOB", "--hash", "0" * 12]) == 1
    out = capsys.readouterr().out
    assert "the hash 000000000000 does not match the arguments of this request" in out, out
    assert f"its hash is now {edited[:12]}, after 1 edit(s)" in out, out
    assert main(["approve", approval, "--as", "U0BOB", "--hash", edited[:12]]) == 0
    assert "approved by U0BOB" in capsys.readouterr().out
    fleet = json.loads((root / "fleet.json").read_text())
    (scaled,) = fleet["history"]
    assert scaled["replicas"] == 8 and scaled["key"] == approval


def test_pending_shows_a_quorums_votes_so_far_as_the_card_does(tmp_path: Path) -> None:
    # It listed a request one of two approvers had voted on like one nobody had: an
    # operator could not tell whom it still waits for.
    home = tmp_path / "h"
    policy = tmp_path / "policy.toml"
    policy.write_text('[tools.restart_service]\nquorum = 2\napprovers = ["U0BOB", "U0CAROL"]\n')
    ok(say(home, "restart api", ts=THREAD_TS, policy=policy))
    (approval,) = pending_ids(home)
    assert "1 of 2" not in ok(cli(home, "pending", policy=policy)).stdout
    assert (
        "vote counted: 1 of 2"
        in ok(decide(home, "approve", approval, "U0BOB", policy=policy)).stdout
    )
    (line,) = ok(cli(home, "pending", policy=policy)).stdout.splitlines()
    assert line.startswith(approval) and "1 of 2 approvals: U0BOB" in line
    # A vote that cannot be read leaves the request listed as the index has it.
    (vote,) = home.glob(f"sessions/*/sess_*/approvals/{approval}.votes/U0BOB.json")
    vote.unlink()
    vote.mkdir()
    (line,) = ok(cli(home, "pending", policy=policy)).stdout.splitlines()
    assert line.startswith(approval) and "approvals" not in line.split("approvers:")[1]


def test_pending_shows_an_edited_requests_arguments_and_the_hash_to_approve_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # After an edit, `approve` needs --hash <the edited hash>, which only its refusal gave:
    # pending listed the request as asked, with neither what it now does nor that hash.
    root = tmp_path / "h"
    approval, edited = _edited_in(root, tmp_path / "policy.toml", monkeypatch)
    capsys.readouterr()

    assert main(["pending"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(approval), line
    assert "edited by U0CAROL: replicas=8 (was 12)" in line, line
    assert f"--hash {edited[:12]}" in line, line
    shown = line.split("--hash ")[1].split()[0]
    assert main(["approve", approval, "--as", "U0BOB", "--hash", shown]) == 0
    assert "approved by U0BOB" in capsys.readouterr().out


def test_a_decision_refused_for_its_missing_reason_names_the_option(tmp_path: Path) -> None:
    # "give one and try again" is what a card's modal asks; a terminal needs the option.
    home = tmp_path / "h"
    policy = tmp_path / "policy.toml"
    policy.write_text("[default]\nrequire_reason = true\n")
    ok(say(home, "restart api", ts=THREAD_TS, policy=policy))
    (approval,) = pending_ids(home)
    for verb in ("approve", "deny"):
        done = decide(home, verb, approval, "U0BOB", policy=policy)
        assert done.returncode == 1, done
        assert "needs a reason" in done.stdout and "--reason" in done.stdout, done.stdout
    assert (
        "approved by U0BOB"
        in ok(
            cli(home, "approve", approval, "--as", "U0BOB", "--reason", "ok", policy=policy)
        ).stdout
    )
