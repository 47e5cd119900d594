"""A person's edit or deletion reaches signoff before their message does, or an older edit
comes late, in Slack.

Slack promises no order between events, and one it could not deliver comes again later:
the ``message_changed`` of a message may be stored before the message itself. Each event
here is sent as Slack would send it (``send_envelope``), in the order the test needs; the
thread's first message is a real one (Alice's "hello", which asked signoff nothing), so
signoff's replies land in its thread.
"""

from __future__ import annotations

from typing import Any

from engine_support import head, transcript
from signoff_e2e_kit import (
    BOT_USER,
    CARD_TITLE,
    OPS,
    answered_deliveries,
    bot_messages,
    bot_reply,
    event_callback,
    mention,
    until,
)

from bot.app import SignoffBot
from bot.config import Settings
from localslack import LocalSlack
from sessions import Home, ThreadDir, ThreadKey, coordination_for

ALICE = "U0ALICE"
ASKS = f"<@{BOT_USER}> restart api"  # what Alice first wrote: a card, were it answered
FOLLOW_UP = "1900000000.000200"  # a follow-up's ts (Slack never sent its message here)
EDIT_1, EDIT_2 = "1900000001.000000", "1900000002.000000"  # two edits' edited.ts


def _message(ts: str, text: str, *, thread_ts: str = "", kind: str = "message") -> dict[str, Any]:
    message: dict[str, Any] = {"type": kind, "user": ALICE, "text": text, "ts": ts}
    if thread_ts:
        message["thread_ts"] = thread_ts
    return message


def _original(ts: str, text: str, *, thread_ts: str = "", kind: str = "message") -> dict[str, Any]:
    event = {**_message(ts, text, thread_ts=thread_ts, kind=kind), "channel": OPS}
    if kind == "message":
        event["channel_type"] = "channel"
    return event_callback(f"Ev{kind[:3]}{ts.replace('.', '')}", event)


def _changed(
    ts: str, text: str, *, edited: str, thread_ts: str = "", previous: str = ASKS
) -> dict[str, Any]:
    message = {**_message(ts, text, thread_ts=thread_ts), "edited": {"user": ALICE, "ts": edited}}
    event = {
        "type": "message",
        "subtype": "message_changed",
        "message": message,
        "previous_message": _message(ts, previous, thread_ts=thread_ts),
        "channel": OPS,
        "hidden": True,
        "ts": edited,
        "event_ts": edited,
        "channel_type": "channel",
    }
    return event_callback(f"Evchg{edited.replace('.', '')}", event)


def _deleted(ts: str, *, thread_ts: str = "", previous: str = ASKS) -> dict[str, Any]:
    event = {
        "type": "message",
        "subtype": "message_deleted",
        "previous_message": _message(ts, previous, thread_ts=thread_ts),
        "channel": OPS,
        "hidden": True,
        "deleted_ts": ts,
        "ts": EDIT_2,
        "event_ts": EDIT_2,
        "channel_type": "channel",
    }
    return event_callback(f"Evdel{ts.replace('.', '')}", event)


async def _send(slack: LocalSlack, payload: dict[str, Any], *, late: bool = False) -> None:
    """``payload`` as an envelope, acked in time; ``late``: as Slack's retry of one it sent."""
    sent = await slack.send_envelope(
        type="events_api", payload=payload, retry_attempt=1 if late else 0
    )
    assert not (await slack.wait_for_ack(sent.envelope_id, timeout=5)).timed_out


async def _hello(slack: LocalSlack) -> str:
    """Alice's "hello" in #ops, which signoff leaves alone: the thread of what follows."""
    ts = await slack.post_message(channel=OPS, user=ALICE, text="hello")
    await until(lambda: answered_deliveries(slack, ts), what="hello to be acked")
    return ts


def _thread(settings: Settings, ts: str) -> ThreadDir:
    return ThreadDir(Home(settings.home), ThreadKey(team="T0LOCAL", channel=OPS, thread_ts=ts))


async def _answered_only(slack: LocalSlack, bot: SignoffBot, thread: str, said: str) -> None:
    await bot_reply(slack, thread, said)
    await bot.engine.idle()
    assert bot_messages(slack, thread, CARD_TITLE) == []


async def test_an_edit_of_a_first_mention_that_comes_before_it_is_what_signoff_answers(
    slack: LocalSlack, bot: SignoffBot
) -> None:
    first = await _hello(slack)
    await _send(slack, _changed(first, f"<@{BOT_USER}> status of web", edited=EDIT_1))
    await _send(slack, _original(first, ASKS, kind="app_mention"), late=True)
    await _answered_only(slack, bot, first, "service=web")


async def test_an_edit_with_a_mention_in_its_older_form_still_asks_signoff(
    slack: LocalSlack, bot: SignoffBot
) -> None:
    """``<@U…|name>``, the form Slack's text once had (its reference still says to expect
    it): the edit asks signoff as ``<@U…>`` does, and is not taken for one that took the
    mention out (which withdrew the request)."""
    first = await _hello(slack)
    legacy = f"<@{BOT_USER}|signoff> status of web"
    await _send(slack, _changed(first, legacy, edited=EDIT_1, previous=f"<@{BOT_USER}|signoff> x"))
    await _send(slack, _original(first, ASKS, kind="app_mention"), late=True)
    await _answered_only(slack, bot, first, "service=web")


async def test_an_edit_of_a_follow_up_that_comes_before_it_is_what_signoff_answers(
    slack: LocalSlack, bot: SignoffBot
) -> None:
    thread = await mention(slack, "status of db")
    await bot_reply(slack, thread, "service=db")
    await _send(slack, _changed(FOLLOW_UP, "status of web", edited=EDIT_1, thread_ts=thread))
    await _send(slack, _original(FOLLOW_UP, "restart api", thread_ts=thread), late=True)
    await _answered_only(slack, bot, thread, "service=web")


async def test_an_edit_of_a_follow_up_to_only_its_file_that_comes_before_it_is_kept(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    """Alice shared a file with "restart api" and then took the words out: the edit says
    what the message now holds, as ingest says of a file shared without a comment (it
    was dropped as "an edit that leaves no text", and the request it withdrew answered)."""
    thread = await mention(slack, "status of db")
    await bot_reply(slack, thread, "service=db")
    changed = _changed(FOLLOW_UP, "", edited=EDIT_1, thread_ts=thread, previous="restart api")
    changed["event"]["message"] |= {"subtype": "file_share", "files": [{"name": "graph.png"}]}
    await _send(slack, changed)
    await _send(slack, _original(FOLLOW_UP, "restart api", thread_ts=thread), late=True)
    await until(lambda: not _thread(settings, thread).inbox.pending(), what="the edit taken")
    await bot.engine.idle()
    assert bot_messages(slack, thread, CARD_TITLE) == []
    key = ThreadKey(team="T0LOCAL", channel=OPS, thread_ts=thread)
    said = str(transcript(Home(settings.home), head(Home(settings.home), key)))
    assert "(no text: shared the file graph.png, which signoff cannot open)" in said, said


async def test_a_follow_up_deleted_before_it_comes_is_never_answered(
    slack: LocalSlack, bot: SignoffBot
) -> None:
    thread = await mention(slack, "status of db")
    await bot_reply(slack, thread, "service=db")
    await _send(slack, _deleted(FOLLOW_UP, thread_ts=thread))
    await _send(slack, _original(FOLLOW_UP, "restart api", thread_ts=thread), late=True)
    await slack.post_message(channel=OPS, user=ALICE, text="status of web", thread_ts=thread)
    await _answered_only(slack, bot, thread, "service=web")
    said = [m.get("text", "") for m in bot_messages(slack, thread)]
    assert len(said) == 2, said


async def test_a_first_mention_deleted_before_it_comes_is_never_answered(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    """Nor is its thread one signoff takes part in: a reply there without a mention is no
    request either."""
    first = await _hello(slack)
    await _send(slack, _deleted(first))
    await _send(slack, _original(first, ASKS, kind="app_mention"), late=True)
    await _send(slack, _original(first, ASKS), late=True)  # its message twin
    reply = await slack.post_message(channel=OPS, user=ALICE, text="restart api", thread_ts=first)
    await until(lambda: answered_deliveries(slack, reply), what="the reply to be acked")
    await bot.engine.idle()
    assert bot_messages(slack, first) == []
    assert _thread(settings, first).inbox.pending() == []


async def test_a_late_older_edit_that_took_the_mention_out_withdraws_nothing(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    """Alice's first edit took the mention out, her second put it back; Slack delivers the
    first again after the second. Her request still waits, and is answered."""
    first = await _hello(slack)
    tdir = _thread(settings, first)
    async with coordination_for(Home(settings.home)).thread_locks.hold(tdir.thread):
        await _send(slack, _original(first, ASKS, kind="app_mention"))
        await _send(slack, _changed(first, f"<@{BOT_USER}> status of web", edited=EDIT_2))
        await _send(slack, _changed(first, "status of db", edited=EDIT_1), late=True)
        [waiting] = tdir.inbox.pending()
        assert (waiting.text, waiting.edited_ts) == (f"<@{BOT_USER}> status of web", EDIT_2)
    await _answered_only(slack, bot, first, "service=web")


async def test_a_mention_added_by_an_edit_keeps_the_date_of_that_edit(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    """Slack sends an ``app_mention`` carrying ``edited`` when an edit first mentions
    signoff; an older edit of the message delivered after it changes nothing."""
    first = await _hello(slack)
    tdir = _thread(settings, first)
    async with coordination_for(Home(settings.home)).thread_locks.hold(tdir.thread):
        edited = _original(first, f"<@{BOT_USER}> status of web", kind="app_mention")
        edited["event"]["edited"] = {"user": ALICE, "ts": EDIT_2}
        await _send(slack, edited)
        [waiting] = tdir.inbox.pending()
        assert waiting.edited_ts == EDIT_2
        await _send(slack, _changed(first, ASKS, edited=EDIT_1), late=True)
        [waiting] = tdir.inbox.pending()
        assert waiting.text == f"<@{BOT_USER}> status of web"
    await _answered_only(slack, bot, first, "service=web")


async def test_an_edit_of_a_message_signoff_would_not_take_stores_nothing(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    """Alice's "hello" asked signoff nothing, and neither does her edit of it, nor a reply
    in its thread (one signoff takes no part in) edited before it came."""
    first = await _hello(slack)
    await _send(slack, _changed(first, "hello all", edited=EDIT_1, previous="hello"))
    reply = _changed(FOLLOW_UP, "status of web", edited=EDIT_2, thread_ts=first, previous="hi")
    await _send(slack, reply)
    await _send(slack, _deleted(FOLLOW_UP, thread_ts=first, previous="hi"))
    assert not _thread(settings, first).path.exists()
