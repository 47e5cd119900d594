"""A message shortcut signoff cannot read is told to its sender where Slack lets signoff.

Two ways the person behind an unreadable shortcut was told nothing, or told out of sight:

- A message shortcut works on any message, in conversations signoff is not in (Slack gives
  it a ``response_url`` for that reason). The ephemeral beside it was refused
  (``not_in_channel``) and that was the end of it: the person saw nothing happen. Now a
  refused ephemeral is followed by a direct message.
- A message shortcut's payload has no ``container``: the thread of the message it was used
  on is ``message.thread_ts``. It was not looked at, so a shortcut used on a reply was
  answered in the channel, out of sight of the thread it came from.
- The telling went through the app's client, which retries a 5xx: an ephemeral Slack
  stored before failing was posted again, and the person was told twice.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import pytest
from signoff_e2e_kit import quarantined, until

from bot.config import Settings
from localslack import LocalSlack

if TYPE_CHECKING:
    from conftest import BotFactory

GENERAL = "C0GENERAL"
RANDOM = "C0RANDOM"  # signoff is not a member


def _shortcut(user: str, channel: str, message: dict[str, Any]) -> dict[str, Any]:
    """A message shortcut as Slack's reference shows one (no ``container``), whose callback
    id signoff cannot read (an object)."""
    return {
        "type": "message_action",
        "callback_id": {"not": "text"},
        "trigger_id": "12466734323.1395872398.3fd5e2c4fb2ab1e2e7f2b3bc4b1a8c97",
        "action_ts": "1700000000.000200",
        "team": {"id": "T0LOCAL", "domain": "local"},
        "user": {"id": user, "username": "carol", "team_id": "T0LOCAL"},
        "channel": {"id": channel, "name": "somewhere"},
        "message_ts": message["ts"],
        "message": {"type": "message", "user": "U0BOB", "text": "<!channel> hi", **message},
        "response_url": "https://hooks.slack.com/app/T0LOCAL/1/x",
        "token": "verification-token",
    }


def _lines(caplog: pytest.LogCaptureFixture, kept: str) -> list[str]:
    lines = [r.getMessage() for r in caplog.records if r.name == "signoff.socket"]
    return [line for line in lines if kept in line and "the sender of" in line]


async def test_a_shortcut_from_a_channel_signoff_is_not_in_is_told_by_direct_message(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="signoff")
    await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    ts = await slack.post_message(channel=RANDOM, user="U0BOB", text="the deploy is stuck")
    sent = await slack.send_envelope(
        type="interactive", payload=_shortcut("U0CAROL", RANDOM, {"ts": ts})
    )
    done = await slack.wait_for_ack(sent.envelope_id, timeout=5)
    assert not done.timed_out and not done.user_saw_error

    dm = await slack.wait_for_message(text_contains="could not read this", from_bot=True)
    (kept,) = quarantined(settings.home)
    assert kept["id"] in dm["text"] and dm["channel"].startswith("D")
    assert "<!channel>" not in dm["text"]
    (line,) = await until(lambda: _lines(caplog, kept["id"]), what="the line")
    # Why the ephemeral was not enough stays in the log.
    assert "direct message" in line and "not_in_channel" in line
    assert not slack.ephemeral_messages(user="U0CAROL")
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_a_shortcut_on_a_reply_is_told_in_its_thread(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings
) -> None:
    await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    parent = await slack.post_message(channel=GENERAL, user="U0BOB", text="deploy?")
    reply = await slack.post_message(
        channel=GENERAL, user="U0BOB", text="still stuck", thread_ts=parent
    )
    payload = _shortcut("U0CAROL", GENERAL, {"ts": reply, "thread_ts": parent})
    sent = await slack.send_envelope(type="interactive", payload=payload)
    await slack.wait_for_ack(sent.envelope_id, timeout=5)

    told = await slack.wait_for_ephemeral(user="U0CAROL", text_contains="could not read this")
    (kept,) = quarantined(settings.home)
    assert kept["id"] in told["text"] and "nothing was done" in told["text"]
    assert told["channel"] == GENERAL and told.get("thread_ts") == parent


async def test_a_click_whose_ephemeral_landed_before_slack_failed_is_told_once(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Slack stored the ephemeral, then answered 500: a post is not retried (a retry after
    # one that landed shows it twice), unlike the app client's reads.
    caplog.set_level(logging.INFO, logger="signoff")
    await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    slack.inject_fault(method="chat.postEphemeral", status=500, after_commit=True, count=1)
    container = {"type": "message", "channel_id": GENERAL, "message_ts": "1.1"}
    payload = {
        **_shortcut("U0CAROL", GENERAL, {"ts": "1.1"}),
        "type": "block_actions",
        "container": {**container, "is_ephemeral": True},
        "actions": [{"action_id": ["approve"], "block_id": "decide", "type": "button"}],
    }
    sent = await slack.send_envelope(type="interactive", payload=payload)
    await slack.wait_for_ack(sent.envelope_id, timeout=5)
    (kept,) = await until(lambda: quarantined(settings.home), what="the record")
    # The line comes once the telling is over, retries and all.
    (line,) = await until(lambda: _lines(caplog, kept["id"]), what="the line")
    assert "could not tell them" in line
    (call,) = slack.calls("chat.postEphemeral")
    assert call.status == 500 and call.committed
    (told,) = slack.ephemeral_messages(user="U0CAROL")
    assert "could not read this click" in told["text"]
    assert not slack.calls("chat.postMessage")  # a DM too would tell them twice
    assert len(slack.ephemeral_messages(user="U0CAROL")) == 1
