"""Private channels and DMs with the app: message.groups and message.im events (as the app
subscribes and its scopes allow), conversations.open/info, and the Messages tab settings."""

from __future__ import annotations

import dataclasses

import pytest
from localslack_testkit import Inbox, close_client, connect_socket_client
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from localslack import ChannelSpec, ControlError, LocalSlack, WorkspaceConfig

BOT = "U0SIGNOFF"
EVERYWHERE = ("app_mention", "message.channels", "message.groups", "message.im")


def legacy_group(config: WorkspaceConfig) -> WorkspaceConfig:
    """Adds a private channel with a pre-2021 G id."""
    secret = ChannelSpec(id="G0SECRET", name="secret", members=("U0BOB", BOT), is_private=True)
    return dataclasses.replace(config, channels=(*config.channels, secret))


async def test_private_and_dm_messages_follow_subscriptions(config: WorkspaceConfig) -> None:
    async with LocalSlack(
        legacy_group(dataclasses.replace(config, subscribed_events=EVERYWHERE))
    ) as slack:
        inbox = Inbox()
        client = await connect_socket_client(slack, inbox)
        try:
            private = await slack.post_message(
                channel="C0PRIVATE", user="U0ALICE", text=f"<@{BOT}> in private"
            )
            legacy = await slack.post_message(channel="G0SECRET", user="U0BOB", text="psst")
            dm = await slack.post_message(channel="D0CAROL", user="U0CAROL", text=f"<@{BOT}> hi")
            await inbox.wait_until(
                lambda: len(inbox.events("message")) == 3 and len(inbox.events("app_mention")) == 1
            )
        finally:
            await close_client(client)
    by_ts = {e["event"]["ts"]: e["event"] for e in inbox.events("message")}
    assert (by_ts[private]["channel"], by_ts[private]["channel_type"]) == ("C0PRIVATE", "group")
    assert (by_ts[legacy]["channel"], by_ts[legacy]["channel_type"]) == ("G0SECRET", "group")
    assert (by_ts[dm]["channel"], by_ts[dm]["channel_type"]) == ("D0CAROL", "im")
    # Mentioning the app in a DM is no app_mention; in a private channel it is.
    [mention] = inbox.events("app_mention")
    assert mention["event"]["ts"] == private


async def test_without_the_subscriptions_nothing_arrives(
    slack: LocalSlack, inbox: Inbox, socket_client: object
) -> None:
    await slack.post_message(channel="C0PRIVATE", user="U0ALICE", text="quiet")
    await slack.post_message(channel="D0ALICE", user="U0ALICE", text="quiet")
    await slack.post_message(channel="C0OPS", user="U0ALICE", text="marker")
    await inbox.wait_until(lambda: bool(inbox.events("message")))
    assert [e["event"]["channel"] for e in inbox.events("message")] == ["C0OPS"]


def test_a_subscription_needs_its_scope(config: WorkspaceConfig) -> None:
    scopes = tuple(s for s in config.scopes if s != "im:history")
    with pytest.raises(ValueError, match=r"message\.im needs the im:history scope"):
        dataclasses.replace(config, scopes=scopes, subscribed_events=EVERYWHERE)


async def test_the_app_writes_to_a_person_and_reads_the_dm(
    slack: LocalSlack, web: AsyncWebClient
) -> None:
    opened = await web.conversations_open(users="U0DAVE")
    assert opened["channel"]["id"] == "D0DAVE"
    info = (await web.conversations_open(users="U0DAVE", return_im=True))["channel"]
    assert (info["is_im"], info["user"]) == (True, "U0DAVE")
    assert (await web.conversations_info(channel="D0DAVE"))["channel"]["user"] == "U0DAVE"
    by_user = await web.chat_postMessage(channel="U0DAVE", text="hello Dave")
    assert by_user["channel"] == "D0DAVE"
    ts = await slack.post_message(channel="D0DAVE", user="U0DAVE", text="hi back")
    history = await web.conversations_history(channel="D0DAVE")
    assert [m["ts"] for m in history["messages"]] == [ts, by_user["ts"]]
    with pytest.raises(SlackApiError) as info_error:
        await web.conversations_open(users="U0NOBODY")
    assert info_error.value.response["error"] == "user_not_found"
    # Someone else's DM with the app is not theirs to post in.
    with pytest.raises(ControlError):
        await slack.post_message(channel="D0DAVE", user="U0BOB", text="intruding")
    # DMs are not channels in describe().
    described = slack.describe()
    assert "D0DAVE" not in {c["id"] for c in described["channels"]}
    assert {"id": "D0DAVE", "user": "U0DAVE"} in described["ims"]


async def test_channel_info_for_private_channels(config: WorkspaceConfig) -> None:
    async with LocalSlack(legacy_group(config)) as slack:
        web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        modern = (await web.conversations_info(channel="C0PRIVATE"))["channel"]
        assert (modern["is_channel"], modern["is_group"], modern["is_private"]) == (
            True,
            False,
            True,
        )
        legacy = (await web.conversations_info(channel="G0SECRET"))["channel"]
        assert (legacy["is_channel"], legacy["is_group"], legacy["is_private"]) == (
            False,
            True,
            True,
        )


async def test_reading_a_private_channel_takes_groups_history(config: WorkspaceConfig) -> None:
    scopes = tuple(s for s in config.scopes if s != "groups:history")
    async with LocalSlack(dataclasses.replace(config, scopes=scopes)) as slack:
        web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        with pytest.raises(SlackApiError) as info:
            await web.conversations_history(channel="C0PRIVATE")
        assert info.value.response["error"] == "missing_scope"
        assert info.value.response["needed"] == "groups:history"
        await web.conversations_history(channel="C0OPS")


async def test_messages_tab_settings(config: WorkspaceConfig) -> None:
    async with LocalSlack(dataclasses.replace(config, messages_tab="read_only")) as slack:
        web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        await web.chat_postMessage(channel="D0ALICE", text="you can read this")
        with pytest.raises(ControlError) as info:
            await slack.post_message(channel="D0ALICE", user="U0ALICE", text="but not answer")
        assert info.value.code == "messages_tab_read_only"
    async with LocalSlack(dataclasses.replace(config, messages_tab="off")) as slack:
        web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        with pytest.raises(SlackApiError) as error:
            await web.chat_postMessage(channel="D0ALICE", text="nobody sees this")
        assert error.value.response["error"] == "messages_tab_disabled"


async def test_a_person_cannot_send_more_than_slack_takes(config: WorkspaceConfig) -> None:
    """Slack's client refuses a message over 40,000 characters; LocalSlack delivered it,
    and the bot (which never gets one from Slack) set it aside unanswered: in the
    playground the person saw no answer and no error."""
    async with LocalSlack(config) as slack:
        with pytest.raises(ControlError) as info:
            await slack.post_message(channel="C0OPS", user="U0ALICE", text="x" * 40_001)
        assert info.value.code == "msg_too_long" and "40,000" in info.value.detail
        # What the client escapes counts too: it is what the event carries.
        with pytest.raises(ControlError):
            await slack.post_message(channel="C0OPS", user="U0ALICE", text="&" * 10_000)
        await slack.post_message(channel="C0OPS", user="U0ALICE", text="x" * 40_000)
