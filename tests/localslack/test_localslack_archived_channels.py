"""A channel archived and unarchived: read-only meanwhile, as Slack's reference answers
(chat.postMessage and chat.postEphemeral ``is_archived``, chat.update ``is_inactive``),
its messages and members kept, and ``channel_archive`` / ``channel_unarchive`` sent to an
app subscribed to them; and one deleted, gone with its messages."""

from __future__ import annotations

import dataclasses

import pytest
from localslack_testkit import Inbox
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.web.async_client import AsyncWebClient

from localslack import ControlError, LocalSlack, WorkspaceConfig

OPS = "C0OPS"


@pytest.fixture
def config(config: WorkspaceConfig) -> WorkspaceConfig:
    events = (*config.subscribed_events, "channel_archive", "channel_unarchive", "channel_deleted")
    return dataclasses.replace(config, subscribed_events=events)


async def error_of(call: object) -> str:
    with pytest.raises(SlackApiError) as caught:
        await call  # type: ignore[misc]
    return str(caught.value.response["error"])


async def test_an_archived_channel_is_read_only_until_unarchived(
    slack: LocalSlack, web: AsyncWebClient, socket_client: SocketModeClient, inbox: Inbox
) -> None:
    posted = await web.chat_postMessage(channel=OPS, text="card")
    assert await slack.archive_channel(channel=OPS, user="U0ALICE") is not None
    info = (await web.conversations_info(channel=OPS))["channel"]
    assert info["is_archived"] is True and info["is_member"] is True
    assert await error_of(web.chat_postMessage(channel=OPS, text="x")) == "is_archived"
    assert (
        await error_of(web.chat_postEphemeral(channel=OPS, user="U0ALICE", text="x"))
        == "is_archived"
    )
    update = web.chat_update(channel=OPS, ts=posted["ts"], text="y")
    assert await error_of(update) == "is_inactive"
    history = await web.conversations_history(channel=OPS)
    assert [m["text"] for m in history["messages"]] == ["card"]
    with pytest.raises(ControlError, match="is_archived"):
        await slack.post_message(channel=OPS, user="U0ALICE", text="hello?")
    with pytest.raises(ControlError, match="already_archived"):
        await slack.archive_channel(channel=OPS, user="U0ALICE")

    assert await slack.unarchive_channel(channel=OPS, user="U0ALICE") is not None
    await web.chat_update(channel=OPS, ts=posted["ts"], text="y")
    await inbox.wait_until(lambda: bool(inbox.events("channel_unarchive")))
    [archived] = [p["event"] for p in inbox.events("channel_archive")]
    [unarchived] = [p["event"] for p in inbox.events("channel_unarchive")]
    assert archived["channel"] == OPS and archived["user"] == "U0ALICE"
    assert archived["is_moved"] == 0 and isinstance(archived["event_ts"], str)
    assert unarchived["channel"] == OPS and "is_moved" not in unarchived


async def test_a_deleted_channel_is_not_found_by_any_method(
    slack: LocalSlack, web: AsyncWebClient, socket_client: SocketModeClient, inbox: Inbox
) -> None:
    posted = await web.chat_postMessage(channel=OPS, text="card")
    assert await slack.delete_channel(channel=OPS) is not None
    update = web.chat_update(channel=OPS, ts=posted["ts"], text="y")
    assert await error_of(update) == "channel_not_found"
    assert await error_of(web.chat_postMessage(channel=OPS, text="x")) == "channel_not_found"
    assert await error_of(web.conversations_members(channel=OPS)) == "channel_not_found"
    assert slack.messages(channel=OPS) == []
    await inbox.wait_until(lambda: bool(inbox.events("channel_deleted")))
    [deleted] = [p["event"] for p in inbox.events("channel_deleted")]
    assert deleted["channel"] == OPS and "user" not in deleted
    with pytest.raises(ControlError, match="channel_not_found"):
        await slack.delete_channel(channel=OPS)
