"""Edits and deletions signoff must leave alone, or must not lose, in Slack.

Each scenario goes through localslack and the real Bolt bot: people post, edit and
delete from their clients (``edit_message``, ``delete_message``), and events Slack could
send but a client cannot make are sent as Slack-shaped envelopes (``send_envelope``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from signoff_e2e_kit import (
    BOT_USER,
    CARD_TITLE,
    OPS,
    answered_deliveries,
    bot_messages,
    bot_reply,
    mention,
    send_ops_event,
    until,
)

from bot.app import SignoffBot
from bot.config import Settings
from localslack import Delivery, LocalSlack
from sessions import Home, ThreadDir, ThreadKey, coordination_for

ALICE, BOB = "U0ALICE", "U0BOB"
EDIT_1, EDIT_2 = "1900000001.000000", "1900000002.000000"  # two edits' edited.ts


def ts_after_by(ts: str) -> str:
    """A Slack ts a microsecond after ``ts``."""
    seconds, micros = ts.split(".")
    return f"{seconds}.{int(micros) + 1:06d}"


def _thread(settings: Settings, ts: str) -> ThreadDir:
    return ThreadDir(Home(settings.home), ThreadKey(team="T0LOCAL", channel=OPS, thread_ts=ts))


def _changes_of(slack: LocalSlack, ts: str) -> list[Delivery]:
    """Every ``message_changed`` / ``message_deleted`` Slack sent of the message at ``ts``."""
    return [d for d in slack.deliveries(type="events_api") if _changed_ts(d.payload) == ts]


def _changed_ts(payload: dict[str, Any]) -> Any:
    event = payload.get("event", {})
    if event.get("subtype") == "message_changed":
        return event["message"].get("ts")
    return event.get("deleted_ts") if event.get("subtype") == "message_deleted" else None


async def _changes_acked(slack: LocalSlack, ts: str, count: int = 1) -> None:
    await until(
        lambda: len(got := _changes_of(slack, ts)) >= count and all(d.acked for d in got),
        what="the edit or deletion to be acked",
    )


async def _edit_acked(slack: LocalSlack, *, user: str, ts: str, text: str) -> None:
    count = len(_changes_of(slack, ts)) + 1
    await slack.edit_message(channel=OPS, user=user, ts=ts, text=text)
    await _changes_acked(slack, ts, count)


async def test_an_edit_of_a_reply_posted_before_signoff_took_part_is_no_request(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    """Bob replied in Alice's thread before anyone asked signoff there; Alice then asked
    it, and was answered; Bob now fixes a typo in his old reply. signoff never took his
    reply (it asked nothing, in a thread signoff took no part in then): its edit is no
    request either."""
    first = await slack.post_message(channel=OPS, user=ALICE, text="web is slow")
    old = await slack.post_message(channel=OPS, user=BOB, text="status of wbe?", thread_ts=first)
    await until(lambda: answered_deliveries(slack, old), what="Bob's reply to be acked")
    await mention(slack, "status of db", thread_ts=first)
    await bot_reply(slack, first, "service=db")
    await bot.engine.idle()
    await _edit_acked(slack, user=BOB, ts=old, text="status of web?")
    await bot.engine.idle()
    said = [m.get("text", "") for m in bot_messages(slack, first)]
    assert len(said) == 1, said
    assert _thread(settings, first).inbox.pending() == []


def _shown(ts: str, text: str, *, thread_ts: str, edited: str = "") -> dict[str, Any]:
    message: dict[str, Any] = {"type": "message", "user": ALICE, "text": text, "ts": ts}
    message["thread_ts"] = thread_ts
    if edited:
        message["edited"] = {"user": ALICE, "ts": edited}
    return message


@contextlib.asynccontextmanager
async def _waiting(slack: LocalSlack, settings: Settings) -> AsyncIterator[tuple[str, str]]:
    """Alice's "restart api" waits in a busy thread: (the thread, its ts), until the block
    ends."""
    thread = await mention(slack, "status of db")
    await bot_reply(slack, thread, "service=db")
    tdir = _thread(settings, thread)
    async with coordination_for(Home(settings.home)).thread_locks.hold(tdir.thread):
        ts = await slack.post_message(channel=OPS, user=ALICE, text="restart api", thread_ts=thread)
        await until((tdir.inbox.new / ts).exists, what="the request to wait in the inbox")
        yield thread, ts


async def test_a_deletion_whose_previous_message_has_an_unreadable_edit_date_still_withdraws(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    """The edit date of what was deleted orders nothing: a deletion always withdraws."""
    async with _waiting(slack, settings) as (thread, ts):
        deleted = {
            "type": "message",
            "subtype": "message_deleted",
            "hidden": True,
            "deleted_ts": ts,
            "previous_message": _shown(ts, "restart api", thread_ts=thread, edited="soon"),
            "ts": "1900000003.000000",
            "event_ts": "1900000003.000000",
        }
        await send_ops_event(slack, deleted, "Evdelbaddate")
        assert _thread(settings, thread).inbox.pending() == []
    await bot.engine.idle()
    assert bot_messages(slack, thread, CARD_TITLE) == []


async def test_an_edit_with_an_unreadable_edit_date_is_read_as_undated(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    """As a message whose ``edited`` cannot be read is stored undated, not refused."""
    async with _waiting(slack, settings) as (thread, ts):
        changed = {
            "type": "message",
            "subtype": "message_changed",
            "hidden": True,
            "message": _shown(ts, "status of web", thread_ts=thread, edited="9" * 30),
            "previous_message": _shown(ts, "restart api", thread_ts=thread),
            "ts": "1900000003.000000",
            "event_ts": "1900000003.000000",
        }
        await send_ops_event(slack, changed, "Evchgbaddate")
        [waiting] = _thread(settings, thread).inbox.pending()
        assert (waiting.text, waiting.edited_ts) == ("status of web", "")
    await bot_reply(slack, thread, "service=web")
    await bot.engine.idle()
    assert bot_messages(slack, thread, CARD_TITLE) == []


def _changed(ts: str, thread: str, *, user: str, previous_user: str = ALICE) -> dict[str, Any]:
    message = {**_shown(ts, "status of web", thread_ts=thread, edited=EDIT_1), "user": user}
    return {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "message": message,
        "previous_message": {**_shown(ts, "restart api", thread_ts=thread), "user": previous_user},
        "ts": EDIT_1,
        "event_ts": EDIT_1,
    }


async def test_an_edit_and_a_deletion_sent_at_once_leave_nothing_to_answer(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    """Whichever lands first, the deletion withdraws: the edit either changed the text of
    what is then withdrawn, or came after it and changes nothing."""
    async with _waiting(slack, settings) as (thread, ts):
        deleted = {
            "type": "message",
            "subtype": "message_deleted",
            "hidden": True,
            "deleted_ts": ts,
            "previous_message": _shown(ts, "restart api", thread_ts=thread),
            "ts": EDIT_2,
            "event_ts": EDIT_2,
        }
        await asyncio.gather(
            send_ops_event(slack, _changed(ts, thread, user=ALICE), "Evchgrace"),
            send_ops_event(slack, deleted, "Evdelrace"),
        )
        assert _thread(settings, thread).inbox.pending() == []
    await bot.engine.idle()
    assert len(bot_messages(slack, thread)) == 1  # the first answer only


@pytest.mark.parametrize(
    ("user", "previous_user"), [(BOB, BOB), (BOB, ALICE)], ids=["both_bob", "message_bob"]
)
async def test_an_edit_that_names_another_author_changes_nothing(
    user: str, previous_user: str, slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    """Slack lets only the author edit: an edit of Alice's waiting request that says Bob
    wrote it is not of her message, and what she asked stays."""
    async with _waiting(slack, settings) as (thread, ts):
        edit = _changed(ts, thread, user=user, previous_user=previous_user)
        await send_ops_event(slack, edit, "Evchgforged")
        [waiting] = _thread(settings, thread).inbox.pending()
        assert (waiting.user, waiting.text) == (ALICE, "restart api")
    await bot.engine.idle()
    assert len(bot_messages(slack, thread, CARD_TITLE)) == 1


async def test_an_edit_of_a_bots_message_in_a_thread_signoff_takes_part_in_is_no_request(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    """signoff's own reply, and another app's, edited (Slack says so of every message in
    the channel): neither is a person's request."""
    thread = await mention(slack, "status of db")
    mine = await bot_reply(slack, thread, "service=db")
    await bot.engine.idle()
    other = "1900000000.000300"
    for n, (ts, user, bot_id) in enumerate(
        [(mine["ts"], BOT_USER, mine["bot_id"]), (other, "U0OTHERAPP", "B0OTHERAPP")]
    ):
        changed = _changed(ts, thread, user=user, previous_user=user)
        changed["message"]["bot_id"] = changed["previous_message"]["bot_id"] = bot_id
        await send_ops_event(slack, changed, f"Evchgbot{n}")
    await bot.engine.idle()
    assert len(bot_messages(slack, thread)) == 1
    assert _thread(settings, thread).inbox.pending() == []
    assert other not in _thread(settings, thread).inbox.taken()


async def test_a_waiting_request_edited_to_40k_characters_of_unicode_is_read_as_typed(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    text = "status of web " + ("é😀ß\u0301 " * 8000)[:39_986]
    assert len(text) == 40_000
    async with _waiting(slack, settings) as (thread, ts):
        await _edit_acked(slack, user=ALICE, ts=ts, text=text)
        [waiting] = _thread(settings, thread).inbox.pending()
        assert waiting.text == text
    await until(lambda: len(bot_messages(slack, thread)) == 2, what="the edit answered")
    await bot.engine.idle()
    assert bot_messages(slack, thread, CARD_TITLE) == []


async def test_a_reply_from_before_signoff_took_part_delivered_late_is_no_request(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    """Bob's reply was posted before Alice asked signoff in the thread, and Slack delivers
    it only after (a retry): it asked signoff nothing then, and is no request now, as its
    edit would not be."""
    first = await slack.post_message(channel=OPS, user=ALICE, text="web is slow")
    await until(lambda: answered_deliveries(slack, first), what="the first message acked")
    await mention(slack, "status of db", thread_ts=first)
    await bot_reply(slack, first, "service=db")
    await bot.engine.idle()
    # Posted a moment after Alice's message, before her mention (a ts between the two).
    old = {**_shown(ts_after_by(first), "status of web?", thread_ts=first), "user": BOB}
    await send_ops_event(slack, old, "Evoldreply")
    await bot.engine.idle()
    said = [m.get("text", "") for m in bot_messages(slack, first)]
    assert len(said) == 1, said
