"""A terminal given the bot's tokens asks Slack who is in an approver group, as the bot does.

Without a Slack connection a terminal cannot say who is in a group, so an approver named
only through one (``approvers = ["S0OPS"]``) was refused at ``signoff approve`` even when
the terminal held the bot's token, and a quorum's re-check from there could not be made.
With the tokens it asks ``usergroups.users.list``; without them it says so.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import FAST
from signoff_e2e_kit import (
    approval_id_of,
    as_in_manifest,
    decision,
    mention,
    until,
    wait_card,
    write_policy,
)

from bot.config import Settings
from localslack import LocalSlack, WorkspaceConfig
from sessions import FixedClock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers_proc import cli

if TYPE_CHECKING:
    from conftest import BotFactory

GROUP = "S0APPROVERS"


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    async with LocalSlack(as_in_manifest(WorkspaceConfig(seed=11, timing=FAST))) as server:
        yield server


async def test_a_terminal_with_the_bots_token_decides_as_a_group_member(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    e2e_clock: FixedClock,
    tmp_path: Path,
) -> None:
    await slack.update_group_members(group=GROUP, users=["U0DAVE"])
    policy = write_policy(
        tmp_path / "policy.toml", f'[tools.restart_service]\napprovers = ["{GROUP}"]\n'
    )
    await start_bot(policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    approval = approval_id_of(await wait_card(slack, await mention(slack, "restart api")))
    when = e2e_clock.now().isoformat()  # the terminal on the bot's clock
    args = ("approve", approval, "--as", "U0DAVE")

    without = await asyncio.to_thread(cli, settings.home, *args, frozen=when, policy=policy)
    assert without.returncode == 1 and "without Slack: give this" in without.stdout, without
    assert decision(settings.home, approval) is None

    tokens = {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_APP_TOKEN": slack.app_token,
        "SLACK_API_URL": slack.api_url,
    }
    done = await asyncio.to_thread(
        cli, settings.home, *args, frozen=when, policy=policy, env=tokens
    )
    assert done.returncode == 0, done
    await until(lambda: decision(settings.home, approval) is not None, what="the decision")
    decided = decision(settings.home, approval)
    assert decided is not None and decided["deciders"] == ["U0DAVE"]
