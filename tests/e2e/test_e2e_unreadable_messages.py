"""A message to signoff that it cannot read is told to the person who wrote it.

A mention Slack delivers but signoff can never store (text holding a lone surrogate, more
than Slack's 40,000 characters, a ``ts`` that is not one) was quarantined and acked, and
its author heard nothing: they waited for an answer that was never coming. Now, after the
ack, they are told, to them only and in the thread they wrote in, that signoff did
nothing with it and where it was kept; once, however often Slack delivers it.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from signoff_e2e_kit import BOT_USER, OPS, quarantined, until

from bot.app import SignoffBot
from bot.config import Settings
from localslack import LocalSlack


def _mention(event_id: str, **fields: Any) -> dict[str, Any]:
    """An ``app_mention`` as Slack's reference prints one, with ``fields`` changed."""
    event = {
        "type": "app_mention",
        "user": "U0ALICE",
        "text": f"<@{BOT_USER}> status of \ud800api",  # JSON carries it; no file can
        "ts": "1900000000.000100",
        "channel": OPS,
        "event_ts": "1900000000.000100",
        **fields,
    }
    return {
        "token": "legacy",
        "team_id": "T0LOCAL",
        "api_app_id": "A0SIGNOFF",
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1900000000,
        "event": event,
    }


async def _send(slack: LocalSlack, payload: dict[str, Any]) -> None:
    sent = await slack.send_envelope(type="events_api", payload=payload)
    assert not (await slack.wait_for_ack(sent.envelope_id, timeout=5)).timed_out


def _told(caplog: pytest.LogCaptureFixture) -> list[str]:
    lines = [r.getMessage() for r in caplog.records if r.name == "signoff.socket"]
    return [line for line in lines if line.startswith("the sender of")]


async def test_a_mention_that_cannot_be_read_is_told_to_its_author_once(
    slack: LocalSlack, bot: SignoffBot, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="signoff.socket")
    # The message as Slack has it; its mention's event is what signoff cannot read.
    ts = await slack.post_message(channel=OPS, user="U0ALICE", text="status of api")
    payload = _mention("Ev0UNREAD1", ts=ts, event_ts=ts)
    await _send(slack, payload)
    told = await slack.wait_for_ephemeral(user="U0ALICE", text_contains="could not read this")
    (kept,) = quarantined(settings.home)
    assert kept["id"] in told["text"] and "did nothing with it" in told["text"]
    assert told["channel"] == OPS and told.get("thread_ts") == ts
    assert "<!" not in told["text"] and "\ud800" not in told["text"]
    await until(lambda: _told(caplog), what="the line that says so")

    await _send(slack, payload)  # its ack was lost: Slack sends it again
    # A sender is told after the ack: the frame's end, not the ack, says nothing more comes.
    await bot.socket.call(bot.handler.frames_done(within=5))
    await bot.engine.idle()
    assert len(quarantined(settings.home)) == 1
    assert len(slack.ephemeral_messages(user="U0ALICE")) == 1
    assert len(_told(caplog)) == 1


async def test_a_reply_that_cannot_be_read_is_told_in_its_thread(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    parent = await slack.post_message(channel=OPS, user="U0BOB", text="the deploy is stuck")
    # Too long even as written (Slack's limit is 40,000 characters).
    payload = _mention("Ev0UNREAD2", text=f"<@{BOT_USER}> " + "x" * 40_001, thread_ts=parent)
    await _send(slack, payload)
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
    await _send(slack, _mention("Ev0CHANUSER", user=OPS, ts=ts, event_ts=ts))
    (kept,) = quarantined(settings.home)
    # The telling is done (its log line), and it told nobody: there was no person.
    (line,) = await until(lambda: _told(caplog), what="the line that says who was told")
    assert line == f"the sender of {kept['id']}: nobody to tell"
    assert len(slack.messages(channel=OPS)) == before
