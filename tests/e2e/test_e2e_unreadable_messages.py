"""A message to signoff that it cannot read is told to the person who wrote it.

A mention Slack delivers but signoff can never store (text holding a lone surrogate, more
than Slack's 40,000 characters, a ``ts`` that is not one) was quarantined and acked, and
its author heard nothing: they waited for an answer that was never coming. Now, after the
ack, they are told, to them only and in the thread they wrote in, that signoff did
nothing with it and where it was kept; once, however often Slack delivers it.
"""

from __future__ import annotations

import logging

import pytest
from signoff_e2e_kit import (
    BOT_USER,
    OPS,
    quarantined,
    send_event,
    senders_told,
    unreadable_mention,
    until,
)

from bot.app import SignoffBot
from bot.config import Settings
from localslack import LocalSlack


async def test_a_mention_that_cannot_be_read_is_told_to_its_author_once(
    slack: LocalSlack, bot: SignoffBot, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="signoff.socket")
    # The message as Slack has it; its mention's event is what signoff cannot read.
    ts = await slack.post_message(channel=OPS, user="U0ALICE", text="status of api")
    payload = unreadable_mention("Ev0UNREAD1", ts=ts, event_ts=ts)
    await send_event(slack, payload)
    told = await slack.wait_for_ephemeral(user="U0ALICE", text_contains="could not read this")
    (kept,) = quarantined(settings.home)
    assert kept["id"] in told["text"] and "did nothing with it" in told["text"]
    assert told["channel"] == OPS and told.get("thread_ts") == ts
    assert "<!" not in told["text"] and "\ud800" not in told["text"]
    await until(lambda: senders_told(caplog), what="the line that says so")

    await send_event(slack, payload)  # its ack was lost: Slack sends it again
    # A sender is told after the ack: the frame's end, not the ack, says nothing more comes.
    await bot.socket.call(bot.handler.frames_done(within=5))
    await bot.engine.idle()
    assert len(quarantined(settings.home)) == 1
    assert len(slack.ephemeral_messages(user="U0ALICE")) == 1
    assert len(senders_told(caplog)) == 1


async def test_a_reply_that_cannot_be_read_is_told_in_its_thread(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    parent = await slack.post_message(channel=OPS, user="U0BOB", text="the deploy is stuck")
    # Too long even as written (Slack's limit is 40,000 characters).
    payload = unreadable_mention(
        "Ev0UNREAD2", text=f"<@{BOT_USER}> " + "x" * 40_001, thread_ts=parent
    )
    await send_event(slack, payload)
    told = await slack.wait_for_ephemeral(user="U0ALICE", text_contains="could not read this")
    assert told.get("thread_ts") == parent
    (kept,) = quarantined(settings.home)
    assert kept["id"] in told["text"]
    assert "x" * 10 not in told["text"]  # signoff's own words, never the message's


async def test_a_mention_whose_user_is_a_channel_posts_nothing_in_that_channel(
    slack: LocalSlack, bot: SignoffBot, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """The person told is a person: a ``user`` naming a channel had its ephemeral refused
    (no such user), and the direct message that follows a refusal was posted to that id,
    in the channel, for everyone in it to read."""
    caplog.set_level(logging.INFO, logger="signoff.socket")
    ts = await slack.post_message(channel=OPS, user="U0ALICE", text="status of api")
    before = len(slack.messages(channel=OPS))
    await send_event(slack, unreadable_mention("Ev0CHANUSER", user=OPS, ts=ts, event_ts=ts))
    (kept,) = quarantined(settings.home)
    # The telling is done (its log line), and it told nobody: there was no person.
    (line,) = await until(lambda: senders_told(caplog), what="the line that says who was told")
    assert line == f"the sender of {kept['id']}: nobody to tell"
    assert len(slack.messages(channel=OPS)) == before
