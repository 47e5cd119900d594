"""Approver groups changing under a waiting request, through LocalSlack and the real Bolt app:
Slack's ``subteam_members_changed`` refreshes the Homes of the people added and removed
(those who opened theirs), read from Slack again, not from a minute-old cache.

LocalSlack runs the app exactly as manifest.yml declares it (scopes, events, Home tab).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import FAST
from signoff_e2e_kit import (
    approval_id_of,
    as_in_manifest,
    home_buttons,
    home_of,
    home_texts,
    mention,
    published_for,
    quarantined,
    wait_card,
    write_policy,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import SignoffBot
from bot.cards import APPROVE, DENY
from bot.config import Settings
from bot.groups import SlackGroups
from localslack import LocalSlack, WorkspaceConfig

if TYPE_CHECKING:
    from conftest import BotFactory

GROUP = "S0APPROVERS"  # Alice and Bob in LocalSlack's default workspace
GROUP_POLICY = f'[tools.restart_service]\napprovers = ["{GROUP}"]\n'


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    async with LocalSlack(as_in_manifest(WorkspaceConfig(seed=13, timing=FAST))) as server:
        yield server


async def watched_request(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path
) -> tuple[SignoffBot, str]:
    """The bot, and the id of a request only the group may decide, made after Carol (not
    in the group, but in its channel) opened her Home."""
    bot: SignoffBot = await start_bot(policy_path=write_policy(tmp_path / "p.toml", GROUP_POLICY))
    await slack.wait_for_sockets(1, timeout=5)
    await slack.open_app_home(user="U0CAROL")
    await home_of(slack, "U0CAROL", has="Waiting for you (0)")
    thread = await mention(slack, "restart api")
    return bot, approval_id_of(await wait_card(slack, thread))


async def test_people_added_to_or_removed_from_an_approver_group_see_their_home_follow(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path
) -> None:
    bot, approval = await watched_request(slack, start_bot, tmp_path)
    await slack.open_app_home(user="U0BOB")
    bobs = await home_of(slack, "U0BOB", has="Waiting for you (1)")
    assert home_buttons(bobs) == [(APPROVE, approval), (DENY, approval)]
    # Settled: Carol's Home was drawn, and the group's members read (and cached) for Bob's.
    assert bot.home_tab is not None
    await bot.home_tab.idle()
    assert "Waiting for you (0)" in home_texts(slack.home_view(user="U0CAROL"))

    # Carol joins the group (Dave too, who never opened signoff's Home): she does nothing
    # else, and her Home offers the request.
    sent = await slack.update_group_members(
        group=GROUP, users=["U0ALICE", "U0BOB", "U0CAROL", "U0DAVE"]
    )
    assert sent is not None
    assert not (await slack.wait_for_ack(sent.envelope_id, timeout=5)).timed_out
    carols = await home_of(slack, "U0CAROL", has="Waiting for you (1)")
    assert home_buttons(carols) == [(APPROVE, approval), (DENY, approval)]
    await bot.home_tab.idle()
    assert published_for(slack, "U0DAVE") == 0  # no Home to keep true

    # Bob leaves it: the Approve he could no longer use disappears from his Home.
    await slack.update_group_members(group=GROUP, users=["U0ALICE", "U0CAROL", "U0DAVE"])
    after = await home_of(slack, "U0BOB", has="Waiting for you (0)")
    assert home_buttons(after) == []
    assert home_buttons(slack.home_view(user="U0CAROL")) == [(APPROVE, approval), (DENY, approval)]


async def test_a_malformed_group_change_is_acked_and_dropped_in_one_line(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="signoff.socket")
    bot, approval = await watched_request(slack, start_bot, tmp_path)

    broken = {"type": "subteam_members_changed", "subteam_id": GROUP, "team_id": "T0LOCAL",
              "date_previous_update": 1446670362, "date_update": 1492906952,
              "added_users": "U0CAROL", "added_users_count": "1",
              "removed_users": [], "removed_users_count": "0"}  # fmt: skip
    payload = {"token": "legacy", "team_id": "T0LOCAL", "api_app_id": "A0SIGNOFF",
               "type": "event_callback", "event_id": "Ev0GROUPBAD1", "event_time": 1492906952,
               "event": broken}  # fmt: skip
    sent = await slack.send_envelope(type="events_api", payload=payload)
    assert not (await slack.wait_for_ack(sent.envelope_id, timeout=5)).timed_out
    [line] = [r for r in caplog.records if "Ev0GROUPBAD1" in r.getMessage()]
    assert " dropped: " in line.getMessage() and "added_users" in line.getMessage()
    assert line.levelno == logging.WARNING and line.exc_info is None
    assert quarantined(settings.home) == []

    # Nothing broke: the real change that follows reaches Carol's Home.
    await slack.update_group_members(group=GROUP, users=["U0ALICE", "U0BOB", "U0CAROL"])
    carols = await home_of(slack, "U0CAROL", has="Waiting for you (1)")
    assert home_buttons(carols) == [(APPROVE, approval), (DENY, approval)]
    assert list(bot.engine.errors) == []


async def test_members_read_while_the_group_changed_are_not_kept_for_the_next_reader(
    slack: LocalSlack,
) -> None:
    """An answer asked for before Slack said the group changed may be the old list: kept
    in the cache, it would undo the change for a minute."""
    groups = SlackGroups(AsyncWebClient(token=slack.bot_token, base_url=slack.api_url))
    held = slack.hold_calls(method="usergroups.users.list")
    reading = asyncio.create_task(groups.members(GROUP))
    await held.wait_held(timeout=5)
    groups.forget(GROUP)  # Slack's event overtook the answer
    held.release()
    assert await reading == {"U0ALICE", "U0BOB"}
    await slack.update_group_members(group=GROUP, users=["U0CAROL"])
    assert await groups.members(GROUP) == {"U0CAROL"}
    assert await groups.members(GROUP) == {"U0CAROL"}  # and that one is kept
    assert len(slack.calls("usergroups.users.list")) == 2
