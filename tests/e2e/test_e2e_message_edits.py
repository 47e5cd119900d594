"""A person edits or deletes a request while it waits for a busy thread, in Slack.

The thread is kept busy by holding its lock (as a long turn does); the person posts a
follow-up, then edits or deletes it from their client (localslack sends Slack's
``message_changed`` / ``message_deleted``); then the thread moves on. Slack may deliver
an event again, late (an ack it did not hear), and in no set order: an older edit, or the
message itself, arriving after a newer edit must not bring back what the person no longer
says.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from signoff_e2e_kit import (
    CARD_TITLE,
    OPS,
    bot_messages,
    bot_reply,
    deliveries_of,
    mention,
    until,
)

from bot.app import SignoffBot
from bot.config import Settings
from localslack import Delivery, LocalSlack
from sessions import Home, ThreadDir, ThreadKey, coordination_for, ts_after


async def _busy_thread(slack: LocalSlack) -> str:
    thread = await mention(slack, "status of db")
    await bot_reply(slack, thread, "service=db")
    return thread


@contextlib.asynccontextmanager
async def _waiting_request(
    slack: LocalSlack, settings: Settings, thread: str
) -> AsyncIterator[tuple[str, Path]]:
    """Alice asks "restart api" while the thread is busy: (its ts, its file in the inbox),
    the thread kept busy until the block ends."""
    key = ThreadKey(team="T0LOCAL", channel=OPS, thread_ts=thread)
    async with coordination_for(Home(settings.home)).thread_locks.hold(key):
        ts = await slack.post_message(channel=OPS, user="U0ALICE", text="restart api",
                                      thread_ts=thread)  # fmt: skip
        waiting = ThreadDir(Home(settings.home), key).inbox.new / ts
        await until(waiting.exists, what="the request to wait in the inbox")
        yield ts, waiting


async def test_a_request_deleted_while_it_waits_is_never_carried_out(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    thread = await _busy_thread(slack)
    async with _waiting_request(slack, settings, thread) as (ts, waiting):
        await slack.delete_message(channel=OPS, user="U0ALICE", ts=ts)
        await until(lambda: not waiting.exists(), what="the deleted request to be withdrawn")
    # The thread moves on: its next message is answered, the deleted one never was.
    await slack.post_message(channel=OPS, user="U0ALICE", text="status of web", thread_ts=thread)
    await bot_reply(slack, thread, "service=web")
    await bot.engine.idle()
    assert bot_messages(slack, thread, CARD_TITLE) == []
    said = [m.get("text", "") for m in bot_messages(slack, thread)]
    assert len(said) == 2 and "service=db" in said[0] and "service=web" in said[1], said


async def test_an_edit_while_it_waits_is_what_signoff_answers(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    thread = await _busy_thread(slack)
    async with _waiting_request(slack, settings, thread) as (ts, waiting):
        await slack.edit_message(channel=OPS, user="U0ALICE", ts=ts, text="status of web")
        await until(lambda: b"status of web" in waiting.read_bytes(), what="the edit to land")
    await bot_reply(slack, thread, "service=web")
    await bot.engine.idle()
    assert bot_messages(slack, thread, CARD_TITLE) == []


async def test_an_edit_after_the_answer_changes_nothing(slack: LocalSlack, bot: SignoffBot) -> None:
    thread = await _busy_thread(slack)
    before = len(bot_messages(slack, thread))
    await slack.edit_message(
        channel=OPS, user="U0ALICE", ts=thread, text="<@U0SIGNOFF> restart api"
    )
    await slack.post_message(channel=OPS, user="U0ALICE", text="status of web", thread_ts=thread)
    await bot_reply(slack, thread, "service=web")
    await bot.engine.idle()
    assert len(bot_messages(slack, thread)) == before + 1
    assert bot_messages(slack, thread, CARD_TITLE) == []


def _edit_of(slack: LocalSlack, ts: str, text: str) -> Delivery:
    """The ``message_changed`` Slack sent when the message at ``ts`` came to say ``text``."""
    [sent] = [
        d
        for d in slack.deliveries(type="events_api")
        if d.payload["event"].get("subtype") == "message_changed"
        and d.payload["event"]["message"]["ts"] == ts
        and d.payload["event"]["message"]["text"] == text
    ]
    return sent


async def _edit(slack: LocalSlack, ts: str, waiting: Path, text: str) -> Delivery:
    await slack.edit_message(channel=OPS, user="U0ALICE", ts=ts, text=text)
    await until(lambda: text.encode() in waiting.read_bytes(), what=f"the edit to {text!r}")
    return _edit_of(slack, ts, text)


async def _again(slack: LocalSlack, sent: Delivery) -> None:
    """Slack's retry of an envelope whose ack it did not hear, after what came since."""
    retry = await slack.send_envelope(
        type="events_api", payload=sent.payload, event_id=sent.event_id, retry_attempt=1
    )
    assert not (await slack.wait_for_ack(retry.envelope_id, timeout=5)).timed_out


async def test_an_older_edit_delivered_again_late_never_brings_its_text_back(
    slack: LocalSlack, bot: SignoffBot, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Alice edits her waiting request twice; Slack delivers the first edit again after the
    second (its ack lost). The request stays what she said last, and says why in the log."""
    caplog.set_level(logging.DEBUG, logger="signoff.socket")
    thread = await _busy_thread(slack)
    async with _waiting_request(slack, settings, thread) as (ts, waiting):
        first = await _edit(slack, ts, waiting, "status of web")
        second = await _edit(slack, ts, waiting, "status of worker")
        edited = [d.payload["event"]["message"]["edited"]["ts"] for d in (first, second)]
        assert ts_after(edited[1], edited[0])
        await _again(slack, first)
        assert b"status of worker" in waiting.read_bytes()
        await _again(slack, second)  # the newest, again: as it was
        assert b"status of worker" in waiting.read_bytes()
    await bot_reply(slack, thread, "service=worker")
    await bot.engine.idle()
    assert bot_messages(slack, thread, "service=web") == []
    assert bot_messages(slack, thread, CARD_TITLE) == []
    lines = [r.getMessage() for r in caplog.records if r.name == "signoff.socket"]
    [older] = [line for line in lines if first.event_id and first.event_id in line]
    assert "older than the text the waiting message holds" in older, lines


async def test_the_message_delivered_again_after_its_edit_keeps_the_edit(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    """The message itself comes again after Alice's edit landed (the inbox's dedupe by ts):
    its first text does not come back."""
    thread = await _busy_thread(slack)
    async with _waiting_request(slack, settings, thread) as (ts, waiting):
        await _edit(slack, ts, waiting, "status of web")
        [original] = deliveries_of(slack, ts)
        await _again(slack, original)
        assert b"status of web" in waiting.read_bytes()
        assert b"restart api" not in waiting.read_bytes()
    await bot_reply(slack, thread, "service=web")
    await bot.engine.idle()
    assert bot_messages(slack, thread, CARD_TITLE) == []
