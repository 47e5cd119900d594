"""Ingest beyond public channels: direct messages with signoff (every message is for it,
no mention needed), private channels, and ``app_home_opened`` for the Home tab."""

from __future__ import annotations

from typing import Any

from test_ingest import TS, Disk, ingest_for, payload

from bot.envelopes import Fate
from sessions import FixedClock, Home, ThreadDir, ThreadKey

LATER = "1700000100.000200"


def dm(text: str = "restart api", **fields: Any) -> dict[str, Any]:
    return payload(type="message", channel="D0ALICE", channel_type="im", text=text, **fields)


def home_opened(tab: str = "home", **fields: Any) -> dict[str, Any]:
    event = {"type": "app_home_opened", "user": "U0BOB", "channel": "D0BOB", "tab": tab}
    return {
        "type": "event_callback",
        "team_id": "T0LOCAL",
        "event_id": "EvHome1",
        "event": {**event, "event_ts": "1700000000.000300", **fields},
    }


async def test_a_direct_message_needs_no_mention_and_starts_its_own_thread(
    home: Home, clock: FixedClock
) -> None:
    disk = Disk()
    ingest = ingest_for(disk, home, clock)
    outcome = await ingest.handle(dm())
    assert outcome.fate is Fate.STORED
    stored = disk.stored[TS]
    assert stored.text == "restart api"
    assert stored.thread == ThreadKey(team="T0LOCAL", channel="D0ALICE", thread_ts=TS)
    # A follow-up in that thread is taken too, and so is one in a thread signoff never saw:
    # in a DM with signoff everything is addressed to it.
    follow = dm("and web", event_id="Ev2", ts=LATER, thread_ts=TS)
    assert (await ingest.handle(follow)).fate is Fate.STORED
    assert disk.stored[LATER].thread.thread_ts == TS
    # The bot's own posts in the DM (message.im echoes them) are not requests.
    mine = dm("⏳ waiting", event_id="Ev3", ts="1700000200.000100", bot_id="B0SIGNOFF")
    assert (await ingest.handle(mine)).fate is Fate.IGNORED
    # An edit event without the message it changed (Slack always sends it): acked, dropped.
    edited = await ingest.handle(dm("x", event_id="Ev4", subtype="message_changed"))
    assert edited.fate is Fate.DROPPED and edited.acked and "an edit event" in edited.reason


async def test_private_channel_follow_ups_count_in_threads_signoff_is_in(
    home: Home, clock: FixedClock
) -> None:
    disk = Disk()
    ingest = ingest_for(disk, home, clock)
    private = {"channel": "C0PRIVATE", "channel_type": "group"}
    assert (await ingest.handle(payload(**private))).fate is Fate.STORED  # a mention
    ThreadDir(home, disk.stored[TS].thread).ensure()
    follow = payload("Ev2", type="message", ts=LATER, thread_ts=TS, **private)
    assert (await ingest.handle(follow)).fate is Fate.STORED
    elsewhere = payload("Ev3", type="message", ts="1700000300.000100", **private)
    outcome = await ingest.handle(elsewhere)
    assert (outcome.fate, outcome.reason) == (Fate.IGNORED, "not a thread signoff takes part in")


async def test_opening_the_home_tab_is_handed_on_and_acked(home: Home, clock: FixedClock) -> None:
    opened: list[str] = []
    ingest = ingest_for(Disk(), home, clock, on_home_opened=opened.append)
    outcome = await ingest.handle(home_opened())
    assert (outcome.fate, outcome.acked, outcome.ref) == (Fate.HANDLED, True, "EvHome1")
    assert opened == ["U0BOB"]
    # The Messages tab is where people write to signoff: nothing to publish for it.
    messages = await ingest.handle(home_opened("messages"))
    assert messages.fate is Fate.IGNORED
    assert opened == ["U0BOB"]


async def test_a_malformed_home_opened_is_quarantined_and_publishes_nothing(
    home: Home, clock: FixedClock
) -> None:
    opened: list[str] = []
    ingest = ingest_for(Disk(), home, clock, on_home_opened=opened.append)
    outcome = await ingest.handle(home_opened(user="../etc"))
    assert outcome.fate is Fate.QUARANTINED
    assert "event.user" in outcome.reason
    assert opened == []
    # Another opening (its own event id): the same one again would be a redelivery.
    bad_tab = await ingest.handle({**home_opened(tab="settings"), "event_id": "EvHome2"})
    assert bad_tab.fate is Fate.QUARANTINED


async def test_slackbots_own_messages_are_not_requests(home: Home, clock: FixedClock) -> None:
    """Slackbot writes as ``USLACKBOT``, with no ``bot_id`` and no subtype: it tells signoff
    in their direct message that it was removed from a channel (a capture of Slack's
    ``message.im`` in atlassian's Jira Cloud for Slack plugin), and a ``/remind`` posts its
    text in a channel, mention and all. Neither is a person asking: taken, a model turn ran
    on it and answered Slackbot, and a reminder's request had no requester to keep from
    approving it."""
    disk = Disk()
    ingest = ingest_for(disk, home, clock)
    removed = dm("You have been removed from #ops by <@U0CAROL>", user="USLACKBOT")
    reminder = payload("Ev2", user="USLACKBOT", text="Reminder: <@U0SIGNOFF> restart api.")
    for event in (removed, reminder):
        outcome = await ingest.handle(event)
        assert (outcome.fate, outcome.reason) == (Fate.IGNORED, "Slackbot's message")
    assert disk.stored == {}
