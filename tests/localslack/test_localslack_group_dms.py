"""Group DMs (mpims): conversations.info's shape, the mpim: scopes their reads take, and
message.mpim events (``channel_type: "mpim"``) with app_mention beside them."""

from __future__ import annotations

import dataclasses

import pytest
from localslack_testkit import Inbox, close_client, connect_socket_client
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from localslack import ChannelSpec, LocalSlack, WorkspaceConfig

BOT = "U0SIGNOFF"
TRIO = ChannelSpec(
    id="G0TRIO", name="mpdm-alice--bob--signoff-1", members=("U0ALICE", "U0BOB", BOT),
    is_mpim=True,
)  # fmt: skip
MPIM_SCOPES = ("mpim:history", "mpim:read")


def with_trio(config: WorkspaceConfig, *, scopes: tuple[str, ...] = MPIM_SCOPES) -> WorkspaceConfig:
    return dataclasses.replace(
        config, channels=(*config.channels, TRIO), scopes=(*config.scopes, *scopes)
    )


async def test_a_group_dm_is_read_with_the_mpim_scopes(config: WorkspaceConfig) -> None:
    async with LocalSlack(with_trio(config)) as slack:
        web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        info = (await web.conversations_info(channel="G0TRIO"))["channel"]
        assert (info["is_mpim"], info["is_channel"], info["is_group"], info["is_private"]) == (
            True, False, False, True,
        )  # fmt: skip
        members = (await web.conversations_members(channel="G0TRIO"))["members"]
        assert set(members) == {"U0ALICE", "U0BOB", BOT}
    async with LocalSlack(with_trio(config, scopes=())) as slack:
        web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        for read, needed in (
            (web.conversations_members(channel="G0TRIO"), "mpim:read"),
            (web.conversations_replies(channel="G0TRIO", ts="1.000001"), "mpim:history"),
        ):
            with pytest.raises(SlackApiError) as refused:
                await read
            assert refused.value.response["error"] == "missing_scope"
            assert refused.value.response["needed"] == needed


async def test_group_dm_messages_come_as_message_mpim(config: WorkspaceConfig) -> None:
    events = ("app_mention", "message.channels", "message.mpim")
    async with LocalSlack(
        dataclasses.replace(with_trio(config), subscribed_events=events)
    ) as slack:
        inbox = Inbox()
        client = await connect_socket_client(slack, inbox)
        try:
            ts = await slack.post_message(channel="G0TRIO", user="U0ALICE", text=f"<@{BOT}> hi")
            await inbox.wait_until(
                lambda: bool(inbox.events("message")) and bool(inbox.events("app_mention"))
            )
        finally:
            await close_client(client)
    [message] = inbox.events("message")
    assert (message["event"]["ts"], message["event"]["channel_type"]) == (ts, "mpim")
    [mention] = inbox.events("app_mention")
    assert mention["event"]["channel"] == "G0TRIO"


def test_message_mpim_needs_mpim_history(config: WorkspaceConfig) -> None:
    with pytest.raises(ValueError, match="mpim:history"):
        dataclasses.replace(config, subscribed_events=("message.mpim",))
