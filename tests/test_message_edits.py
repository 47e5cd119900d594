"""A person's edit or deletion of a message that waits in its thread's inbox.

The test holds the thread's lock (a busy thread) while the message arrives and changes,
as ``test_several_messages_in_one_turn`` does; then the worker takes what waits.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
from typing import Any

import pytest
from engine_support import THREAD, message, replies, transcript, user_ts

from agent_core.messages import UserMessage
from bot.envelopes import Fate
from bot.ingest import EventIngest
from sessions import (
    Home,
    ThreadDir,
    coordination_for,
    held_message,
    replace_atomically,
    revise_message,
)

LATER = "1700000000.000200"
EDITED = "1700000001.000001"  # when Alice edited it (Slack's edited.ts)


async def _answered_once(engine: Any) -> None:
    await engine.ingest(message("<@U0BOT> status of db", ts="1700000000.000100"))
    await engine.idle()


async def test_an_edit_of_a_waiting_message_is_what_the_turn_reads(
    make_engine: Any, home: Home, surface: Any
) -> None:
    engine = await make_engine()
    await _answered_once(engine)
    async with coordination_for(home).thread_locks.hold(THREAD):
        await engine.ingest(message("restart api", ts=LATER))
        said = await engine.revise(
            THREAD, LATER, user="U0ALICE", text="status of web", edited=EDITED
        )
    await engine.idle()
    assert said == "revised"
    (last,) = [m for m in transcript(home) if isinstance(m, UserMessage) and m.ts == LATER]
    assert last.text == "status of web"
    assert any("service=web" in r for r in replies(surface))
    assert surface.cards == []  # the restart it no longer asks for never got a card


async def test_a_deleted_waiting_message_is_never_answered_nor_stored_again(
    make_engine: Any, home: Home, surface: Any
) -> None:
    engine = await make_engine()
    await _answered_once(engine)
    before = len(surface.replies)
    async with coordination_for(home).thread_locks.hold(THREAD):
        await engine.ingest(message("restart api", ts=LATER))
        assert await engine.withdraw(THREAD, LATER) == "withdrawn"
        # Slack sends the original again (an unacked envelope): it stays withdrawn.
        assert await engine.ingest(message("restart api", ts=LATER)) is False
    await engine.idle()
    assert LATER not in user_ts(home)
    assert surface.cards == [] and len(surface.replies) == before
    inbox = ThreadDir(home, THREAD).inbox
    assert LATER not in inbox.taken()  # no session took it
    assert await engine.withdraw(THREAD, LATER) == "read_already"


async def test_an_edit_after_the_message_was_read_changes_nothing(
    make_engine: Any, home: Home, surface: Any
) -> None:
    engine = await make_engine()
    await _answered_once(engine)
    said = await engine.revise(
        THREAD, "1700000000.000100", user="U0ALICE", text="restart api", edited=EDITED
    )
    assert said == "read_already"
    assert await engine.withdraw(THREAD, "1700000000.000100") == "read_already"
    assert [m.text for m in transcript(home) if isinstance(m, UserMessage)] == [
        "<@U0BOT> status of db"
    ]
    assert surface.cards == []


async def test_only_the_author_edits_and_an_unknown_message_is_unknown(
    make_engine: Any, home: Home
) -> None:
    engine = await make_engine()
    await _answered_once(engine)
    async with coordination_for(home).thread_locks.hold(THREAD):
        await engine.ingest(message("status of api", ts=LATER))
        assert (
            await engine.revise(THREAD, LATER, user="U0BOB", text="restart api", edited=EDITED)
            == "unknown"
        )
        assert await engine.revise(
            THREAD, LATER, user="U0ALICE", text="status of api", edited=EDITED
        ) == ("unchanged")
        never = "1700000000.000900"
        assert (
            await engine.revise(THREAD, never, user="U0ALICE", text="x", edited=EDITED) == "unknown"
        )
        assert await engine.withdraw(THREAD, never) == "unknown"
    await engine.idle()
    assert [m.text for m in transcript(home) if isinstance(m, UserMessage)][-1] == "status of api"


async def test_edits_count_in_the_order_they_were_made_whatever_order_they_come_in(
    make_engine: Any, home: Home
) -> None:
    """Slack's ``edited.ts`` dates each edit: one older than the edit the waiting text comes
    from changes nothing, even after an edit back to the same text (A, B, A, the B late).
    A message stored before edits were dated (version 1, no ``edited_ts``) is still read."""
    engine = await make_engine()
    await _answered_once(engine)
    inbox = ThreadDir(home, THREAD).inbox
    t1, t2, t3 = "1700000001.000001", "1700000001.000002", "1700000001.000003"

    async def edit(text: str, edited: str) -> str:
        return str(await engine.revise(THREAD, LATER, user="U0ALICE", text=text, edited=edited))

    async with coordination_for(home).thread_locks.hold(THREAD):
        await engine.ingest(message("restart api", ts=LATER))
        record = json.loads((inbox.new / LATER).read_bytes())
        # Not edited: version 1, which a version from before dated edits reads.
        assert record["schema_version"] == 1 and "edited_ts" not in record
        assert await edit("status of web", t2) == "revised"
        assert await edit("status of api", t1) == "older"
        assert await edit("status of web", t3) == "unchanged"  # edited back: dated t3 now
        assert await edit("status of db", t2) == "older"
        [waiting] = inbox.pending()
        assert (waiting.text, waiting.edited_ts, waiting.schema_version) == (
            "status of web",
            t3,
            2,
        )
    await engine.idle()
    (last,) = [m for m in transcript(home) if isinstance(m, UserMessage) and m.ts == LATER]
    assert last.text == "status of web"


async def test_an_edit_waits_for_the_worker_holding_the_message_then_is_too_late(
    make_engine: Any, home: Home
) -> None:
    """The worker holds a message while it records it: an edit then waits, and once the
    message is taken it is too late, never half applied."""
    engine = await make_engine()
    await _answered_once(engine)
    inbox = ThreadDir(home, THREAD).inbox
    async with coordination_for(home).thread_locks.hold(THREAD):
        await engine.ingest(message("restart api", ts=LATER))
        async with held_message(inbox, LATER) as held:
            assert held is not None and held.text == "restart api"
            editing = asyncio.ensure_future(
                asyncio.to_thread(
                    revise_message,
                    ThreadDir(home, THREAD),
                    LATER,
                    user="U0ALICE",
                    text="status of web",
                    edited=EDITED,
                )
            )
            await asyncio.sleep(0.05)  # time for the edit to reach the lock, not to pass it
            assert not editing.done()
            inbox.mark_consumed(LATER)  # what the worker does before it lets go
        assert await editing == "read_already"
    assert not os.path.exists(inbox.new / LATER)


# -- the events Slack sends (shapes from docs.slack.dev/reference/events/message/…) --------


def _changed(ts: str, text: str, *, thread_ts: str | None = None, **message: Any) -> Any:
    """``message_changed`` as Slack's reference prints it (no ``channel_type``, and the
    message without ``thread_ts`` when it started its thread)."""
    shown: dict[str, Any] = {"type": "message", "user": "U0ALICE", "text": text, "ts": ts}
    if thread_ts is not None:
        shown["thread_ts"] = thread_ts
    shown.update(message)
    shown["edited"] = {"user": "U0ALICE", "ts": "1700000001.000001"}
    return _callback(
        {
            "type": "message",
            "subtype": "message_changed",
            "hidden": True,
            "channel": "C0OPS",
            "ts": "1700000001.000001",
            "message": shown,
        }
    )


def _deleted(ts: str, *, thread_ts: str | None) -> Any:
    previous: dict[str, Any] = {"type": "message", "user": "U0ALICE", "text": "x", "ts": ts}
    if thread_ts is not None:
        previous["thread_ts"] = thread_ts
    return _callback(
        {
            "type": "message",
            "subtype": "message_deleted",
            "hidden": True,
            "channel": "C0OPS",
            "ts": "1700000001.000002",
            "deleted_ts": ts,
            "event_ts": "1700000001.000002",
            "previous_message": previous,
        }
    )


def _callback(event: dict[str, Any]) -> Any:
    return {"type": "event_callback", "team_id": "T0LOCAL", "event_id": "Ev9EDIT", "event": event}


def _ingest(engine: Any, home: Home, clock: Any) -> EventIngest:
    return EventIngest(engine, home=home, clock=clock, bot_user_id="U0BOT", bot_id="B0BOT")


async def test_slacks_edit_and_deletion_events_reach_a_waiting_message(
    make_engine: Any, home: Home, clock: Any
) -> None:
    engine = await make_engine()
    await _answered_once(engine)
    ingest = _ingest(engine, home, clock)
    first = THREAD.thread_ts
    async with coordination_for(home).thread_locks.hold(THREAD):
        await engine.ingest(message("restart api", ts=LATER))
        edited = await ingest.handle(_changed(LATER, "status of web", thread_ts=first))
        assert (edited.fate, edited.acked) == (Fate.HANDLED, True)
        assert ThreadDir(home, THREAD).inbox.pending()[0].text == "status of web"
        gone = await ingest.handle(_deleted(LATER, thread_ts=first))
        assert gone.fate is Fate.HANDLED and "never answered" in gone.reason
        again = await ingest.handle(_deleted(LATER, thread_ts=first))
        assert again.fate is Fate.IGNORED and "read already" in again.reason
    await engine.idle()
    assert LATER not in user_ts(home)


@pytest.mark.parametrize(
    "withdrawing",
    [
        _changed(THREAD.thread_ts, "restart web, on second thought no"),  # the mention dropped
        # A deleted first message that has replies stays, as a tombstone (naming its
        # author, Slackbot, or nobody).
        _changed(THREAD.thread_ts, "This message was deleted.", subtype="tombstone", hidden=True),
        _changed(THREAD.thread_ts, "This message was deleted.", subtype="tombstone", user=None),
    ],
)
async def test_a_first_message_edited_to_no_longer_ask_signoff_is_withdrawn(
    make_engine: Any, home: Home, clock: Any, surface: Any, withdrawing: Any
) -> None:
    engine = await make_engine()
    ingest = _ingest(engine, home, clock)
    first = THREAD.thread_ts
    async with coordination_for(home).thread_locks.hold(THREAD):
        await engine.ingest(message("<@U0BOT> restart api", ts=first))
        kept = await ingest.handle(_changed(first, "<@U0BOT> restart web"))  # still asks
        assert kept.fate is Fate.HANDLED and "new text" in kept.reason
        dropped = await ingest.handle(withdrawing)
        assert dropped.fate is Fate.HANDLED and "withdrawn" in dropped.reason
    await engine.idle()
    assert surface.cards == [] and surface.replies == []


@pytest.mark.parametrize(
    ("event", "fate", "why"),
    [
        (_changed(LATER, "status", thread_ts=THREAD.thread_ts, bot_id="B0BOT"), Fate.IGNORED,
         "a bot's message"),
        (_changed(LATER, "status", thread_ts=THREAD.thread_ts, user="U0BOT"), Fate.IGNORED,
         "the bot's own message"),
        (_changed(LATER, "status", thread_ts="1700000009.000100"), Fate.IGNORED,
         "outside signoff's threads"),
        (_deleted(LATER, thread_ts="1700000009.000100"), Fate.IGNORED,
         "outside signoff's threads"),
        (_callback({"type": "message", "subtype": "message_deleted", "channel": "C0OPS"}),
         Fate.DROPPED, "an edit event"),
        (_changed(LATER, "status", thread_ts=THREAD.thread_ts, subtype="channel_join"),
         Fate.IGNORED, "another kind of message"),
    ],
)  # fmt: skip
async def test_edits_that_are_not_a_persons_waiting_message_are_acked_with_a_reason(
    make_engine: Any, home: Home, clock: Any, event: Any, fate: Fate, why: str
) -> None:
    engine = await make_engine()
    await _answered_once(engine)
    outcome = await _ingest(engine, home, clock).handle(event)
    assert outcome.fate is fate and why in outcome.reason and outcome.acked


async def test_the_worker_waits_for_an_edit_in_progress_and_reads_what_it_wrote(
    make_engine: Any, home: Home
) -> None:
    """An edit holds the message's lock while it writes: the worker's hold waits for it
    (on a disk thread, the loop free meanwhile) and reads the edited text."""
    engine = await make_engine()
    await _answered_once(engine)
    inbox = ThreadDir(home, THREAD).inbox
    async with coordination_for(home).thread_locks.hold(THREAD):
        await engine.ingest(message("restart api", ts=LATER))
        fd = os.open(inbox.new / LATER, os.O_RDONLY)
        fcntl.flock(fd, fcntl.LOCK_EX)  # an edit, mid-write

        async def hold() -> str | None:
            async with held_message(inbox, LATER) as held:
                return None if held is None else held.text

        holding = asyncio.ensure_future(hold())
        await asyncio.sleep(0.05)  # time to reach the lock, not to pass it
        assert not holding.done()
        revised = message("status of web", ts=LATER)
        replace_atomically(inbox.new / LATER, revised.model_dump_json().encode())
        os.close(fd)  # the edit is done
        assert await holding == "status of web"


async def test_a_deletion_cut_before_the_file_left_new_is_still_never_answered(
    make_engine: Any, home: Home, surface: Any
) -> None:
    """A kill between the deletion's withdrawn line (durable) and the unlink of its file
    leaves the message both waiting and withdrawn: the next turn must not answer it."""
    engine = await make_engine()
    await _answered_once(engine)
    before = len(surface.replies)
    inbox = ThreadDir(home, THREAD).inbox
    async with coordination_for(home).thread_locks.hold(THREAD):
        await engine.ingest(message("restart api", ts=LATER))
        inbox.taken_log.add(LATER, withdrawn=True)  # withdraw_message's first step, then the kill
    await engine.idle()
    assert LATER not in user_ts(home)
    assert surface.cards == [] and len(surface.replies) == before
    assert not os.path.exists(inbox.new / LATER)  # the withdrawal is finished
    assert LATER not in inbox.taken()
    assert (
        await engine.revise(THREAD, LATER, user="U0ALICE", text="status", edited=EDITED)
        == "read_already"
    )


async def test_a_deletion_slack_sends_without_the_message_finds_the_waiting_reply(
    make_engine: Any, home: Home, clock: Any
) -> None:
    """Slack's reference example of ``message_deleted`` has no ``previous_message``, so no
    thread: a reply waiting in a busy thread is found where messages wait."""
    engine = await make_engine()
    await _answered_once(engine)
    ingest = _ingest(engine, home, clock)
    async with coordination_for(home).thread_locks.hold(THREAD):
        await engine.ingest(message("restart api", ts=LATER))
        bare = _deleted(LATER, thread_ts=None)
        del bare["event"]["previous_message"]
        gone = await ingest.handle(bare)
        assert gone.fate is Fate.HANDLED and "never answered" in gone.reason
    await engine.idle()
    assert LATER not in user_ts(home)
    unknown = _deleted("1700000000.000900", thread_ts=None)
    del unknown["event"]["previous_message"]
    assert (await ingest.handle(unknown)).fate is Fate.IGNORED


async def test_an_edit_that_comes_before_its_message_stores_it_as_edited(
    make_engine: Any, home: Home, surface: Any
) -> None:
    """Slack keeps no order: the message itself, when it comes, is a duplicate."""
    engine = await make_engine()
    await _answered_once(engine)
    edited = message("status of web", ts=LATER).model_copy(update={"edited_ts": EDITED})
    async with coordination_for(home).thread_locks.hold(THREAD):
        said = await engine.revise(
            THREAD, LATER, user="U0ALICE", text="status of web", edited=EDITED, unstored=edited
        )
        assert said == "stored_early"
        assert await engine.ingest(message("restart api", ts=LATER)) is False
        [waiting] = ThreadDir(home, THREAD).inbox.pending()
        assert (waiting.text, waiting.edited_ts) == ("status of web", EDITED)
        # An older edit, or one of a message already stored, is an edit as any other.
        older = await engine.revise(
            THREAD, LATER, user="U0ALICE", text="restart api", edited="", unstored=edited
        )
        assert older == "older"
    await engine.idle()
    assert surface.cards == []
    assert any("service=web" in r for r in replies(surface))


async def test_a_first_message_withdrawn_before_it_comes_leaves_no_thread_signoff_knows(
    make_engine: Any, home: Home, surface: Any
) -> None:
    engine = await make_engine()
    first = "1700000009.000100"
    other = THREAD.model_copy(update={"thread_ts": first})
    assert await engine.withdraw(other, first, before_it_came=True) == "withdrawn_early"
    asked = message("<@U0BOT> restart api", ts=first, thread=other)
    assert await engine.ingest(asked) is False
    await engine.idle()
    assert surface.cards == [] and surface.replies == []
    assert not engine.knows_thread(other)  # a reply there is no request
    assert await engine.withdraw(other, first, before_it_came=True) == "read_already"


async def test_a_waiting_forward_whose_comment_is_taken_out_keeps_what_it_quotes(
    make_engine: Any, home: Home, clock: Any
) -> None:
    """Alice's waiting reply forwards an alert with a comment; she edits the comment away.
    The message is still the alert it quotes, not an edit that leaves no text."""
    engine = await make_engine()
    await _answered_once(engine)
    ingest = _ingest(engine, home, clock)
    alert = {"is_msg_unfurl": True, "text": "db-2 disk 97%", "author_name": "carol",
             "from_url": "https://x.slack.com/archives/C0OPS/p1699999999000100"}  # fmt: skip
    async with coordination_for(home).thread_locks.hold(THREAD):
        await engine.ingest(message("is this bad?", ts=LATER))
        edited = await ingest.handle(
            _changed(LATER, "", thread_ts=THREAD.thread_ts, attachments=[alert])
        )
        assert edited.fate is Fate.HANDLED, edited.reason
        [waiting] = ThreadDir(home, THREAD).inbox.pending()
        assert waiting.text == "Shared message from carol:\n> db-2 disk 97%"
