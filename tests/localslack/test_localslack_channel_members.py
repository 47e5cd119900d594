"""People joining and leaving channels: the control, what conversations.members answers
after it, and the ``member_joined_channel`` / ``member_left_channel`` events an app
subscribed to them hears (only for channels the app is in, as Slack sends them)."""

from __future__ import annotations

import dataclasses

import pytest
from localslack_testkit import Inbox
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.web.async_client import AsyncWebClient

from localslack import ControlError, LocalSlack, WorkspaceConfig

PRIVATE = "C0PRIVATE"  # Alice and the app


@pytest.fixture
def config(config: WorkspaceConfig) -> WorkspaceConfig:
    events = (*config.subscribed_events, "member_joined_channel", "member_left_channel")
    return dataclasses.replace(config, subscribed_events=events)


async def test_joining_and_leaving_are_answered_and_sent_as_slack_sends_them(
    slack: LocalSlack, web: AsyncWebClient, socket_client: SocketModeClient, inbox: Inbox
) -> None:
    assert await slack.join_channel(channel=PRIVATE, user="U0BOB") is not None
    assert "U0BOB" in (await web.conversations_members(channel=PRIVATE))["members"]
    assert await slack.join_channel(channel=PRIVATE, user="U0BOB") is None  # in already
    assert await slack.leave_channel(channel=PRIVATE, user="U0BOB") is not None
    assert "U0BOB" not in (await web.conversations_members(channel=PRIVATE))["members"]
    await inbox.wait_until(lambda: bool(inbox.events("member_left_channel")))
    [joined] = [p["event"] for p in inbox.events("member_joined_channel")]
    [left] = [p["event"] for p in inbox.events("member_left_channel")]
    for event in (joined, left):
        assert event["user"] == "U0BOB" and event["channel"] == PRIVATE
        assert event["channel_type"] == "G" and event["team"] == "T0LOCAL"
        assert isinstance(event["event_ts"], str)


async def test_a_channel_without_the_app_sends_nothing(slack: LocalSlack) -> None:
    await slack.leave_channel(channel=PRIVATE, user="U0SIGNOFF")
    assert await slack.join_channel(channel=PRIVATE, user="U0BOB") is None
    with pytest.raises(ControlError):
        await slack.join_channel(channel="C0NOPE", user="U0BOB")
    with pytest.raises(ControlError):
        await slack.leave_channel(channel=PRIVATE, user="U0NOBODY")
