"""A Slack Connect guest: a person from another organization in a shared channel.

Their messages name their own team (``user_team``), and a stream addressed to them must
name that team as ``recipient_team_id`` ("the team the user receiving the streaming text
belongs to", chat.startStream's reference), not the channel host's.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from localslack_testkit import Inbox
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.web.async_client import AsyncWebClient

from localslack import LocalSlack, WorkspaceConfig
from localslack.config import ChannelSpec, UserSpec

OPS = "C0OPS"
HOSTED = "C0HOSTED"
GUEST = UserSpec(id="U0GUEST", name="gina", team_id="T0PARTNER")


@pytest.fixture
def config(config: WorkspaceConfig) -> WorkspaceConfig:
    """#ops shared with the guest; #partner-ops created by the guest's organization."""
    channels = tuple(
        dataclasses.replace(c, members=(*c.members, GUEST.id)) if c.id == OPS else c
        for c in config.channels
    )
    hosted = ChannelSpec(
        id=HOSTED,
        name="partner-ops",
        members=(GUEST.id, "U0ALICE", config.bot.user_id),
        host_team=GUEST.team_id,
    )
    return dataclasses.replace(config, users=(*config.users, GUEST), channels=(*channels, hosted))


async def test_a_guest_is_streamed_to_under_their_own_team(
    slack: LocalSlack, web: AsyncWebClient
) -> None:
    ask = await slack.post_message(channel=OPS, user=GUEST.id, text="<@U0SIGNOFF> status?")
    said = slack.message(channel=OPS, ts=ask)
    assert said is not None
    assert (said["team"], said["user_team"], said["source_team"]) == ("T0PARTNER",) * 3
    local = await slack.post_message(channel=OPS, user="U0ALICE", text="me too", thread_ts=ask)
    assert "user_team" not in (slack.message(channel=OPS, ts=local) or {"user_team": 1})

    with pytest.raises(SlackApiError) as refused:
        await web.chat_startStream(
            channel=OPS, thread_ts=ask, markdown_text="hi",
            recipient_user_id=GUEST.id, recipient_team_id="T0LOCAL",
        )  # fmt: skip
    assert refused.value.response["error"] == "invalid_arguments"
    started = await web.chat_startStream(
        channel=OPS, thread_ts=ask, markdown_text="hi",
        recipient_user_id=GUEST.id, recipient_team_id="T0PARTNER",
    )  # fmt: skip
    assert started["ok"]
    # The workspace's own people are still addressed under its team.
    await web.chat_startStream(
        channel=OPS, thread_ts=ask, markdown_text="hi",
        recipient_user_id="U0ALICE", recipient_team_id="T0LOCAL",
    )  # fmt: skip


async def test_a_guests_click_names_their_own_team(
    slack: LocalSlack, web: AsyncWebClient, inbox: Inbox, socket_client: SocketModeClient
) -> None:
    """block_actions' ``user.team_id`` is the clicker's team; ``team`` the card's workspace."""
    button = {"type": "button", "action_id": "go", "text": {"type": "plain_text", "text": "Go"}}
    card = await web.chat_postMessage(
        channel=OPS, text="go?", blocks=[{"type": "actions", "elements": [button]}]
    )
    for user in (GUEST.id, "U0ALICE"):
        await slack.click_button(channel=OPS, ts=card["ts"], user=user, action_id="go")
    await inbox.wait_until(lambda: sum(r.type == "interactive" for r in inbox.requests) == 2)
    guest, alice = (r.payload for r in inbox.requests if r.type == "interactive")
    assert (guest["user"]["id"], guest["user"]["team_id"]) == (GUEST.id, "T0PARTNER")
    assert (alice["user"]["id"], alice["user"]["team_id"]) == ("U0ALICE", "T0LOCAL")
    assert guest["team"]["id"] == alice["team"]["id"] == "T0LOCAL"


async def test_users_info_names_a_guests_own_team(web: AsyncWebClient) -> None:
    """users.info's ``team_id`` is the person's own team, as a click's ``user.team_id``
    is: what an app that only has a user id (``agent_session_stopped``) learns it from."""
    guest = (await web.users_info(user=GUEST.id))["user"]
    assert (guest["team_id"], guest["profile"]["team"]) == ("T0PARTNER", "T0PARTNER")
    alice = (await web.users_info(user="U0ALICE"))["user"]
    assert (alice["team_id"], alice["profile"]["team"]) == ("T0LOCAL", "T0LOCAL")


async def test_an_event_in_a_channel_the_partner_created_names_it_as_team_id(
    slack: LocalSlack, inbox: Inbox, socket_client: SocketModeClient
) -> None:
    """In a channel another organization created, an event's outer ``team_id`` is that
    organization's (the channel's source workspace) and ``authorizations[0].team_id`` the
    installation's (bolt-js #687); #ops, this workspace's own, shared with the guest,
    names this workspace. Both are externally shared; #general is not."""
    for channel in (HOSTED, OPS, "C0GENERAL"):
        await slack.post_message(channel=channel, user="U0ALICE", text="<@U0SIGNOFF> here")
    await inbox.wait_until(lambda: len(_mentions(inbox)) == 3)
    seen = {p["event"]["channel"]: p for p in _mentions(inbox)}
    shapes = {
        c: (p["team_id"], p["authorizations"][0]["team_id"], p["is_ext_shared_channel"])
        for c, p in seen.items()
    }
    assert shapes == {
        HOSTED: ("T0PARTNER", "T0LOCAL", True),
        OPS: ("T0LOCAL", "T0LOCAL", True),
        "C0GENERAL": ("T0LOCAL", "T0LOCAL", False),
    }


def _mentions(inbox: Inbox) -> list[dict[str, Any]]:
    return [
        r.payload
        for r in inbox.requests
        if r.type == "events_api" and r.payload["event"]["type"] == "app_mention"
    ]
