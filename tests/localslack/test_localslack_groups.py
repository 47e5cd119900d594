"""User groups whose members change: the control (in process and over HTTP), what
usergroups.users.list and usergroups.list answer after it, and the ``subteam_members_changed``
event an app subscribed to it hears."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from conftest import FAST
from localslack_testkit import Inbox
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.web.async_client import AsyncWebClient

from localslack import ControlError, LocalSlack, WorkspaceConfig
from localslack.persist import restore, snapshot

GROUP = "S0APPROVERS"  # Alice and Bob


@pytest.fixture
def config(config: WorkspaceConfig) -> WorkspaceConfig:
    events = (*config.subscribed_events, "subteam_members_changed")
    return dataclasses.replace(config, subscribed_events=events)


@pytest.fixture
async def http(slack: LocalSlack) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=slack.url) as session:
        yield session


async def test_a_change_of_members_is_answered_by_the_api_and_sent_as_slack_sends_it(
    slack: LocalSlack, web: AsyncWebClient, socket_client: SocketModeClient, inbox: Inbox
) -> None:
    sent = await slack.update_group_members(group=GROUP, users=["U0BOB", "U0CAROL", "U0DAVE"])
    assert sent is not None
    await inbox.wait_until(lambda: bool(inbox.events("subteam_members_changed")))
    [payload] = inbox.events("subteam_members_changed")
    assert payload["type"] == "event_callback" and payload["team_id"] == "T0LOCAL"
    event = payload["event"]
    assert event["subteam_id"] == GROUP and event["team_id"] == "T0LOCAL"
    assert event["added_users"] == ["U0CAROL", "U0DAVE"] and event["added_users_count"] == "2"
    assert event["removed_users"] == ["U0ALICE"] and event["removed_users_count"] == "1"
    assert isinstance(event["date_update"], int) and isinstance(event["date_previous_update"], int)
    assert event["date_previous_update"] <= event["date_update"]
    assert isinstance(event["event_ts"], str)

    listed = await web.usergroups_users_list(usergroup=GROUP)
    assert listed["users"] == ["U0BOB", "U0CAROL", "U0DAVE"]
    groups = (await web.usergroups_list(include_users=True))["usergroups"]
    [group] = [g for g in groups if g["id"] == GROUP]
    assert group["users"] == ["U0BOB", "U0CAROL", "U0DAVE"] and group["user_count"] == 3
    assert group["date_update"] == event["date_update"]
    described = {g["id"]: g["members"] for g in slack.describe()["groups"]}
    assert described[GROUP] == ["U0BOB", "U0CAROL", "U0DAVE"]

    # The next change starts where this one left off.
    await slack.update_group_members(group=GROUP, users=["U0BOB"])
    await inbox.wait_until(lambda: len(inbox.events("subteam_members_changed")) == 2)
    second = inbox.events("subteam_members_changed")[1]["event"]
    assert second["added_users"] == [] and second["added_users_count"] == "0"
    assert second["removed_users"] == ["U0CAROL", "U0DAVE"]
    assert second["date_previous_update"] == event["date_update"]


async def test_no_change_sends_nothing_and_bad_arguments_are_refused(
    slack: LocalSlack, socket_client: SocketModeClient, inbox: Inbox
) -> None:
    assert await slack.update_group_members(group=GROUP, users=["U0BOB", "U0ALICE"]) is None
    with pytest.raises(ControlError) as unknown:
        await slack.update_group_members(group="S0NOSUCH", users=["U0BOB"])
    assert unknown.value.code == "no_such_subteam"
    with pytest.raises(ControlError) as nobody:
        await slack.update_group_members(group=GROUP, users=["U0NOBODY"])
    assert nobody.value.code == "user_not_found"
    # Sent after all of those: the only event is this one's.
    await slack.update_group_members(group=GROUP, users=["U0ALICE"])
    await inbox.wait_until(lambda: bool(inbox.events("subteam_members_changed")))
    assert len(inbox.events("subteam_members_changed")) == 1


async def test_an_app_not_subscribed_hears_nothing_but_reads_the_new_members() -> None:
    async with LocalSlack(WorkspaceConfig(seed=3, timing=FAST)) as slack:
        assert "subteam_members_changed" not in slack.config.subscribed_events
        assert await slack.update_group_members(group=GROUP, users=["U0CAROL"]) is None
        web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        assert (await web.usergroups_users_list(usergroup=GROUP))["users"] == ["U0CAROL"]
        assert slack.deliveries(type="events_api") == []


def test_subscribing_to_member_changes_needs_the_usergroups_scope() -> None:
    scopes = tuple(s for s in WorkspaceConfig().scopes if s != "usergroups:read")
    with pytest.raises(ValueError, match="usergroups:read"):
        WorkspaceConfig(scopes=scopes, subscribed_events=("subteam_members_changed",))


async def test_the_http_control_changes_members_and_says_what_it_sent(
    slack: LocalSlack, http: aiohttp.ClientSession, web: AsyncWebClient
) -> None:
    async with http.post(
        "/_control/groups/members", json={"group": GROUP, "users": ["U0CAROL"]}
    ) as resp:
        body: dict[str, Any] = await resp.json()
        assert resp.status == 200, body
    assert body["added"] == ["U0CAROL"] and body["removed"] == ["U0ALICE", "U0BOB"]
    assert body["delivery"]["type"] == "events_api"
    assert (await web.usergroups_users_list(usergroup=GROUP))["users"] == ["U0CAROL"]
    async with http.post("/_control/groups/members", json={"group": GROUP}) as resp:
        assert resp.status == 400 and (await resp.json())["error"] == "missing_argument"


async def test_changed_members_survive_a_restart_of_the_state_file(slack: LocalSlack) -> None:
    await slack.update_group_members(group=GROUP, users=["U0DAVE"])
    saved = snapshot(slack._rt)
    async with LocalSlack(slack.config) as fresh:
        restore(fresh._rt, saved)
        assert fresh.workspace.groups[GROUP].members == ("U0DAVE",)
        assert fresh.workspace.groups["S0ONCALL"].members == ("U0CAROL",)
