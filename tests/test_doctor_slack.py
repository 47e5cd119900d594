"""``signoff doctor`` checks Slack as ``signoff run`` will use it: the bot token (who it
is, and the scopes manifest.yml asks for) and the app token (Socket Mode), against
LocalSlack through slack_sdk, in a subprocess as an operator runs it."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from test_cli_errors import env_for, signoff
from test_manifest import MANIFEST

from bot.doctor_slack import NEEDED_SCOPES
from localslack import LocalSlack, WorkspaceConfig

_MANIFEST_SCOPES = tuple(MANIFEST["oauth_config"]["scopes"]["bot"])


def test_the_scopes_doctor_checks_are_the_manifests() -> None:
    assert set(NEEDED_SCOPES) == set(_MANIFEST_SCOPES)


@pytest.fixture
async def workspace(request: pytest.FixtureRequest) -> AsyncIterator[LocalSlack]:
    scopes = getattr(request, "param", _MANIFEST_SCOPES)
    config = dataclasses.replace(WorkspaceConfig(seed=3), scopes=scopes)
    async with LocalSlack(config) as server:
        yield server


def _doctor(slack: LocalSlack, tmp_path: Path, **tokens: str) -> tuple[int, list[str]]:
    env = env_for(tmp_path / "home", SLACK_API_URL=slack.api_url, **tokens)
    done = signoff("doctor", env=env, timeout=60)
    return done.returncode, done.stdout.splitlines()


async def test_doctor_says_both_tokens_work(workspace: LocalSlack, tmp_path: Path) -> None:
    code, lines = await asyncio.to_thread(
        _doctor, workspace, tmp_path,
        SLACK_BOT_TOKEN=workspace.bot_token, SLACK_APP_TOKEN=workspace.app_token,
    )  # fmt: skip
    assert code == 0, lines
    (bot,) = [line for line in lines if "SLACK_BOT_TOKEN" in line]
    assert bot.startswith("ok: SLACK_BOT_TOKEN:") and "U0SIGNOFF" in bot and "T0" in bot
    (app,) = [line for line in lines if "SLACK_APP_TOKEN" in line]
    assert app.startswith("ok: SLACK_APP_TOKEN:")
    assert workspace.sockets() == []  # asked for a connection, never held one


@pytest.mark.parametrize(
    "workspace", [tuple(s for s in _MANIFEST_SCOPES if s not in ("files:write", "commands"))],
    indirect=True,
)  # fmt: skip
async def test_doctor_names_the_scopes_the_install_lacks(
    workspace: LocalSlack, tmp_path: Path
) -> None:
    # An app installed from an older manifest: every long answer's upload, or /signoff,
    # failed at run time with missing_scope, long after start-up said all was well.
    code, lines = await asyncio.to_thread(
        _doctor, workspace, tmp_path, SLACK_BOT_TOKEN=workspace.bot_token
    )
    assert code == 1
    (bot,) = [line for line in lines if "SLACK_BOT_TOKEN" in line]
    assert bot.startswith("problem: SLACK_BOT_TOKEN:")
    assert "commands, files:write" in bot and "manifest.yml" in bot


async def test_doctor_says_which_token_slack_refuses(workspace: LocalSlack, tmp_path: Path) -> None:
    code, lines = await asyncio.to_thread(
        _doctor, workspace, tmp_path,
        SLACK_BOT_TOKEN="xoxb-0-wrong", SLACK_APP_TOKEN="xapp-0-wrong",
    )  # fmt: skip
    assert code == 1
    said = "\n".join(lines)
    assert "problem: SLACK_BOT_TOKEN: Slack refused it (auth.test: invalid_auth)" in said
    assert "problem: SLACK_APP_TOKEN: Slack refused it" in said
    assert "xoxb-0-wrong" not in said and "xapp-0-wrong" not in said


@pytest.mark.parametrize("missing", ["SLACK_APP_TOKEN", "SLACK_BOT_TOKEN"])
async def test_doctor_names_the_token_missing_beside_the_other(
    workspace: LocalSlack, tmp_path: Path, missing: str
) -> None:
    """One token set is a Slack deploy: ``signoff run`` stops at once without the other
    (exit 2), so a doctor that checked the one it had and said nothing of the other passed
    (exit 0) an environment the bot cannot start with."""
    tokens = {"SLACK_BOT_TOKEN": workspace.bot_token, "SLACK_APP_TOKEN": workspace.app_token}
    del tokens[missing]
    code, lines = await asyncio.to_thread(_doctor, workspace, tmp_path, **tokens)
    assert code == 1, lines
    (said,) = [line for line in lines if missing in line]
    assert said.startswith(f"problem: {missing}: not set"), said
    (other,) = tokens
    assert [line for line in lines if line.startswith(f"ok: {other}:")], lines


def test_doctor_without_slack_tokens_says_so_and_checks_the_model(tmp_path: Path) -> None:
    done = signoff("doctor", env=env_for(tmp_path / "home"), timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Slack: not set (SLACK_BOT_TOKEN, SLACK_APP_TOKEN)" in done.stdout


def test_doctor_says_when_no_tools_are_configured(tmp_path: Path) -> None:
    """README: doctor says how many tools there are, as ``signoff run`` would offer them;
    none at all is what run warns of at start-up ("can talk but not act"), so doctor says
    it too, before the deploy, without failing: a bot with no tools may still be meant."""
    done = signoff("doctor", env=env_for(tmp_path / "home"), timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 tools offered: no tools are configured" in done.stdout
    assert "signoff can talk but not act" in done.stdout


async def test_doctor_names_a_user_group_slack_does_not_know(
    workspace: LocalSlack, tmp_path: Path
) -> None:
    # A policy naming a user group that does not exist (a typo, a group deleted since):
    # every approver of its rule is refused, and its requests wait until they expire.
    policy = tmp_path / "policy.toml"
    policy.write_text(
        '[default]\napprovers = ["S0APPROVERS"]\n\n'
        '[tools.restart_service]\napprovers = ["S0NOPE", "U0BOB"]\n'
    )
    code, lines = await asyncio.to_thread(
        _doctor, workspace, tmp_path,
        SLACK_BOT_TOKEN=workspace.bot_token, SIGNOFF_POLICY=str(policy), SIGNOFF_DEMO="1",
    )  # fmt: skip
    assert code == 1, lines
    (nope,) = [line for line in lines if "S0NOPE" in line]
    assert nope.startswith("problem: ") and "no_such_subteam" in nope, nope
    assert "restart_service" in nope, nope  # which rule names it
    (known,) = [line for line in lines if "S0APPROVERS" in line]
    assert known.startswith("ok: "), known


@pytest.mark.parametrize(
    "workspace", [tuple(s for s in _MANIFEST_SCOPES if s != "usergroups:read")], indirect=True
)
async def test_doctor_says_it_could_not_ask_about_groups_without_the_scope(
    workspace: LocalSlack, tmp_path: Path
) -> None:
    # Not "nobody decides by it": the group may be fine; the install cannot ask.
    policy = tmp_path / "policy.toml"
    policy.write_text('[default]\napprovers = ["S0APPROVERS"]\n')
    code, lines = await asyncio.to_thread(
        _doctor, workspace, tmp_path,
        SLACK_BOT_TOKEN=workspace.bot_token, SIGNOFF_POLICY=str(policy), SIGNOFF_DEMO="1",
    )  # fmt: skip
    assert code == 1, lines
    (group,) = [line for line in lines if "S0APPROVERS" in line]
    assert "could not ask Slack (missing_scope)" in group, group
    assert "nobody decides" not in group, group
