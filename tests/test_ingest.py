"""EventIngest judges every events_api payload: stored, duplicate, ignored, dropped,
quarantined or deferred (the only one left unacked), each with a reason."""

from __future__ import annotations

import asyncio
import copy
import json
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from engine_support import EngineFactory
from engine_support import text as said
from pydantic import JsonValue

from agent_core.scripted import ScriptedModel
from bot.envelopes import Fate
from bot.ingest import EventIngest
from sessions import (
    EditOutcome,
    FixedClock,
    Home,
    Inbox,
    InboxMessage,
    Quarantine,
    ThreadDir,
    ThreadKey,
)

TS = "1700000000.000100"


def payload(event_id: str = "Ev1", **fields: Any) -> dict[str, Any]:
    event = {
        "type": "app_mention",
        "channel": "C0OPS",
        "user": "U0ALICE",
        "text": "<@U0SIGNOFF> hi &amp; &lt;b&gt;",
        "ts": TS,
        **fields,
    }
    return {
        "type": "event_callback",
        "team_id": "T0LOCAL",
        "event_id": event_id,
        "event": {k: v for k, v in event.items() if v is not None},
    }


class Disk:
    """An engine's ingest side on a disk that may fail, and a record of what was stored."""

    def __init__(self, *, fail: BaseException | None = None) -> None:
        self.fail = fail
        self.stored: dict[str, InboxMessage] = {}
        self.home: Home | None = None  # set by ingest_for: threads signoff knows are on disk

    async def ingest(self, message: InboxMessage) -> bool:
        if self.fail is not None:
            raise self.fail
        fresh = message.ts not in self.stored
        self.stored.setdefault(message.ts, message)
        return fresh

    def knows_thread(self, thread: ThreadKey) -> bool:
        return self.home is not None and ThreadDir(self.home, thread).path.exists()

    def took_part_by(self, thread: ThreadKey, ts: str) -> bool:
        return self.knows_thread(thread)

    async def revise(
        self,
        thread: ThreadKey,
        ts: str,
        *,
        user: str,
        text: str,
        edited: str,
        unstored: InboxMessage | None = None,
    ) -> EditOutcome:
        return self._change(ts)

    async def withdraw(
        self, thread: ThreadKey, ts: str, *, edited: str | None = None, before_it_came: bool = False
    ) -> EditOutcome:
        return self._change(ts)

    async def withdraw_in_channel(self, team: str, channel: str, ts: str) -> EditOutcome:
        return self._change(ts)

    def _change(self, ts: str) -> EditOutcome:
        if self.fail is not None:
            raise self.fail
        return "read_already" if ts in self.stored else "unknown"


def ingest_for(target: Any, home: Home, clock: FixedClock, **options: Any) -> EventIngest:
    if isinstance(target, Disk):
        target.home = home
    return EventIngest(
        target, home=home, clock=clock, bot_user_id="U0SIGNOFF", bot_id="B0SIGNOFF", **options
    )


async def test_a_mention_is_stored_as_the_person_typed_it(home: Home, clock: FixedClock) -> None:
    disk = Disk()
    ingest = ingest_for(disk, home, clock)
    outcome = await ingest.handle(payload())
    assert (outcome.fate, outcome.ref, outcome.acked) == (Fate.STORED, "Ev1", True)
    assert disk.stored[TS].text == "<@U0SIGNOFF> hi & <b>"
    assert disk.stored[TS].thread == ThreadKey(team="T0LOCAL", channel="C0OPS", thread_ts=TS)
    assert (await ingest.handle(payload())).fate is Fate.DUPLICATE  # the same event id
    twin = payload("Ev2", type="message")
    ThreadDir(home, disk.stored[TS].thread).ensure()
    assert (await ingest.handle(twin)).fate is Fate.DUPLICATE  # the same message
    await ingest.drain(within=10)
    assert len(disk.stored) == 1


@pytest.mark.parametrize(
    ("fields", "team"),
    [
        ({"user_team": "T0PARTNER", "team": "T0PARTNER"}, "T0PARTNER"),  # a Slack Connect guest
        ({"team": "T0PARTNER"}, "T0PARTNER"),
        ({"user_team": "not a team!", "team": 7}, ""),  # unusable: the thread's team stands in
        ({}, ""),
    ],
)
async def test_the_authors_team_is_kept_with_the_message(
    home: Home, clock: FixedClock, fields: dict[str, Any], team: str
) -> None:
    disk = Disk()
    outcome = await ingest_for(disk, home, clock).handle(payload(**fields))
    assert outcome.fate is Fate.STORED
    assert disk.stored[TS].user_team == team
    assert disk.stored[TS].thread.team == "T0LOCAL"


@pytest.mark.parametrize(
    ("text", "files", "stored"),
    [
        ("", [{"id": "F1", "name": "error.png"}], "the file error.png"),
        (" ", [{"id": "F1", "name": "a.png"}, {"id": "F2", "name": "b.log"}], "the files a.png, b.log"),
        # A file past the plan's limits, and one deleted since, come without a name.
        (None, [{"id": "F1", "mode": "hidden_by_limit"}], "1 file"),
        ("", [{"id": "F1", "mode": "tombstone"}, {"id": "F2"}], "2 files"),
        ("", [{"id": "F1", "name": "a.png"}, {"id": "F2"}], "2 files: a.png and 1 without a name"),
    ],
)  # fmt: skip
async def test_files_shared_without_text_are_stored_as_what_was_shared(
    home: Home, clock: FixedClock, text: str | None, files: list[Any], stored: str
) -> None:
    disk = Disk()
    shared = payload(type="message", subtype="file_share", channel="D0ALICE",
                     channel_type="im", text=text, files=files)  # fmt: skip
    assert (await ingest_for(disk, home, clock).handle(shared)).fate is Fate.STORED
    assert disk.stored[TS].text == f"(no text: shared {stored}, which signoff cannot open)"


@pytest.mark.parametrize(
    "attachments",
    [
        "not a list",
        [7, None, "x"],
        [{"is_share": True, "text": 5}, {"is_msg_unfurl": True, "text": "   "}],
        [{"is_msg_unfurl": True, "text": "lone \ud800 surrogate"}],
        # An app's attachment and a web link's unfurl quote no message.
        [{"fallback": "build failed", "text": "build failed", "color": "danger"}],
        [{"from_url": "https://example.com", "service_name": "Example", "text": "a page"}],
    ],
)
async def test_attachments_that_quote_no_message_leave_it_as_typed(
    home: Home, clock: FixedClock, attachments: Any
) -> None:
    """Only a forwarded (or shared) message is quoted; nothing else in ``attachments``,
    nor anything there that cannot be read, refuses or changes the person's message."""
    disk = Disk()
    outcome = await ingest_for(disk, home, clock).handle(payload(attachments=attachments))
    assert outcome.fate is Fate.STORED
    assert disk.stored[TS].text == "<@U0SIGNOFF> hi & <b>"


def test_an_inbox_record_stored_before_the_team_was_kept_still_reads() -> None:
    old = {
        "schema_version": 1,
        "thread": {"team": "T0LOCAL", "channel": "C0OPS", "thread_ts": TS},
        "ts": TS,
        "user": "U0ALICE",
        "text": "hi",
        "event_id": "Ev1",
        "received_at": "2026-11-02T09:00:00Z",
    }
    assert InboxMessage.model_validate(old).user_team == ""


@pytest.mark.parametrize(
    ("body", "fate", "reason"),
    [
        (payload(type="reaction_added"), Fate.IGNORED, "event type 'reaction_added'"),
        (payload(subtype="message_changed"), Fate.IGNORED, "subtype 'message_changed'"),
        (payload(bot_id="B0SIGNOFF"), Fate.IGNORED, "the bot's own message"),
        (payload(bot_id="B0OTHER"), Fate.IGNORED, "another bot's message"),
        (payload(user="U0SIGNOFF"), Fate.IGNORED, "the bot's own message"),
        (payload(type="message", channel_type="group"), Fate.IGNORED, "not a thread signoff"),
        (payload(type="message"), Fate.IGNORED, "not a thread signoff takes part in"),
        (payload(type="message", channel="c/../x"), Fate.DROPPED, "without a valid team"),
        ({"type": "app_rate_limited"}, Fate.IGNORED, "not an event_callback"),
        ({"type": "event_callback", "event": "x"}, Fate.DROPPED, "event:"),
        ({"type": "event_callback"}, Fate.DROPPED, "event: field required"),
        ([1, 2], Fate.DROPPED, "payload"),
        (
            payload(ts="1.2.3", thread_ts=TS),
            Fate.QUARANTINED,
            "event.ts: not a valid Slack timestamp",
        ),
        (payload(thread_ts="soon"), Fate.QUARANTINED, "event.thread_ts"),
        (payload(text="a\ud800"), Fate.QUARANTINED, "event.text: not valid Unicode"),
        (payload(text="a" * 40_001), Fate.QUARANTINED, "at most 40000 characters"),
        (payload(text=["a"]), Fate.QUARANTINED, "event.text"),
        (payload(user=None), Fate.QUARANTINED, "event.user: field required"),
        (payload(event_id="Ev/../1"), Fate.QUARANTINED, "event_id: string should match"),
        (payload(event_id=7), Fate.QUARANTINED, "event_id"),  # type: ignore[arg-type]  # on purpose
        ({**payload(), "team_id": "t0local"}, Fate.QUARANTINED, "team_id: not a valid Slack id"),
    ],
)
async def test_each_payload_gets_one_outcome_with_its_reason(
    home: Home, clock: FixedClock, body: JsonValue, fate: Fate, reason: str
) -> None:
    disk = Disk()
    ingest = ingest_for(disk, home, clock)
    outcome = await ingest.handle(copy.deepcopy(body))
    assert outcome.fate is fate
    assert reason.lower() in outcome.reason.lower()
    assert outcome.acked and disk.stored == {}
    line = outcome.line("events_api")
    assert "\n" not in line and line.isascii()
    kept = list(Quarantine(home, clock=clock).records())
    assert len(kept) == (fate is Fate.QUARANTINED)
    if kept:
        # The payload is kept exactly, even when it is not valid Unicode.
        assert kept[0].payload == body
        assert kept[0].reason in outcome.reason
        assert kept[0].at == "2026-11-02T09:00:00.000Z"
        assert kept[0].id in outcome.reason


async def test_a_message_in_a_thread_signoff_takes_part_in_is_stored(
    home: Home, clock: FixedClock
) -> None:
    disk = Disk()
    ThreadDir(home, ThreadKey(team="T0LOCAL", channel="C0OPS", thread_ts=TS)).ensure()
    ingest = ingest_for(disk, home, clock)
    reply = payload(type="message", ts="1700000000.000200", thread_ts=TS, text="and web?")
    assert (await ingest.handle(reply)).fate is Fate.STORED
    broken = payload("Ev3", type="message", ts="1700000000.000300", thread_ts=TS, text="\udc00")
    assert (await ingest.handle(broken)).fate is Fate.QUARANTINED


async def test_a_failing_disk_leaves_the_event_unacked_and_nothing_quarantined(
    home: Home, clock: FixedClock
) -> None:
    ingest = ingest_for(Disk(fail=OSError(28, "No space left on device")), home, clock)
    outcome = await ingest.handle(payload())
    assert (outcome.fate, outcome.acked) == (Fate.DEFERRED, False)
    assert "No space left on device" in outcome.reason
    assert list(Quarantine(home, clock=clock).records()) == []
    # Nothing was remembered: the redelivery is judged afresh.
    ingest.engine = Disk()
    assert (await ingest.handle(payload())).fate is Fate.STORED


async def test_a_failing_disk_leaves_an_edit_unacked(home: Home, clock: FixedClock) -> None:
    ThreadDir(home, ThreadKey(team="T0LOCAL", channel="C0OPS", thread_ts=TS)).ensure()
    ingest = ingest_for(Disk(fail=OSError(5, "Input/output error")), home, clock)
    deletion: dict[str, JsonValue] = {
        "type": "message",
        "subtype": "message_deleted",
        "hidden": True,
        "channel": "C0OPS",
        "ts": "1700000001.000002",
        "deleted_ts": TS,
    }
    outcome = await ingest.handle({**payload(), "event": deletion})
    assert (outcome.fate, outcome.acked) == (Fate.DEFERRED, False)
    assert "Input/output error" in outcome.reason


async def test_a_bug_while_storing_quarantines_the_payload_and_carries_the_error(
    home: Home, clock: FixedClock
) -> None:
    ingest = ingest_for(Disk(fail=KeyError("oops")), home, clock)
    outcome = await ingest.handle(payload())
    assert outcome.fate is Fate.QUARANTINED and isinstance(outcome.error, KeyError)
    assert "could not store: KeyError" in outcome.reason
    [kept] = Quarantine(home, clock=clock).records()
    assert kept.payload == payload()


async def test_a_full_quarantine_drops_with_a_reason_and_a_failing_one_defers(
    home: Home, clock: FixedClock, tmp_path: Path
) -> None:
    ingest = ingest_for(
        Disk(), home, clock, quarantine=Quarantine(home, clock=clock, daily_limit=1)
    )
    assert (await ingest.handle(payload("Ev1", ts="x"))).fate is Fate.QUARANTINED
    # Another message (its own ts): the same ts is the first one's twin, kept already.
    full = await ingest.handle(payload("Ev2", ts="y"))
    assert full.fate is Fate.DROPPED and "quarantine full for today" in full.reason
    # A quarantine that cannot be written (here a file stands where its directory goes;
    # root ignores permission bits) is a storage failure like any other.
    broken = Home(tmp_path / "broken")
    broken.root.mkdir()
    broken.quarantine_dir.write_text("")
    ingest = ingest_for(Disk(), broken, clock)
    refused = await ingest.handle(payload("Ev3", ts="x"))
    assert refused.fate is Fate.DEFERRED and "could not quarantine" in refused.reason


async def test_a_redelivery_while_the_first_copy_is_stored_waits_for_it_unacked(
    make_engine: EngineFactory, home: Home, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Acked before the first copy is durable, it would be a promise that write might not
    keep: it waits for that copy, like a mention's twin, and is its duplicate once stored."""
    engine = await make_engine(model=ScriptedModel([said("hi")]))
    gate, writing = threading.Event(), threading.Event()
    deliver, writes = Inbox.deliver, list[str]()

    def held(inbox: Inbox, m: InboxMessage) -> bool:
        writes.append(m.ts)
        writing.set()
        gate.wait(10)
        return deliver(inbox, m)

    monkeypatch.setattr(Inbox, "deliver", held)
    ingest = ingest_for(engine, home, clock)
    first = asyncio.create_task(ingest.handle(payload()))
    assert await asyncio.to_thread(writing.wait, 10)
    again = asyncio.create_task(ingest.handle(payload()))
    await asyncio.sleep(0.05)
    assert not again.done()  # not acked while the first copy is being written
    gate.set()
    assert (await first).fate is Fate.STORED
    assert ((await again).fate, (await again).acked) == (Fate.DUPLICATE, True)
    assert writes == [TS]  # the redelivery never wrote
    assert (await ingest.handle(payload())).fate is Fate.DUPLICATE
    await ingest.drain(within=10)


def test_quarantine_records_are_create_only_files_sharded_by_day(
    home: Home, clock: FixedClock
) -> None:
    quarantine = Quarantine(home, clock=clock)
    first = quarantine.put(source="events_api", reason="r1", payload={"a": "\ud800"})
    clock.advance(timedelta(hours=20))
    second = quarantine.put(source="interactive", reason="r2", payload=float("nan"))
    assert first is not None and second is not None
    days = sorted(p.name for p in home.quarantine_dir.iterdir())
    assert days == ["2026-11-02", "2026-11-03"]
    assert [r.id for r in quarantine.records()] == [second.id, first.id]
    assert [r.id for r in quarantine.records(day="2026-11-02")] == [first.id]
    assert quarantine.get(first.id).payload == {"a": "\ud800"}
    assert second.payload is None and second.excerpt == "nan"
    [path] = (home.quarantine_dir / "2026-11-02").iterdir()
    assert path.read_bytes().isascii()
    assert json.loads(path.read_text())["schema_version"] == 1


def test_what_a_record_keeps_is_found_by_the_next_process_for_a_day(
    home: Home, clock: FixedClock
) -> None:
    """Marks name what a record keeps (an event id, a message's place), beside the day's
    shard: another process finds them, the day after too, and listing is unchanged."""
    kept = Quarantine(home, clock=clock).put(
        source="events_api", reason="r", payload={"a": 1}, keys=["id Ev1", "at T C \ud800"]
    )
    assert kept is not None
    later = Quarantine(home, clock=clock)  # the next process
    assert later.kept_as(["at T C \ud800"]) == kept.id
    assert later.kept_as(["id Ev2"]) is None
    clock.advance(timedelta(days=1))
    assert later.kept_as(["id Ev2", "id Ev1"]) == kept.id
    clock.advance(timedelta(days=1))
    assert later.kept_as(["id Ev1"]) is None  # Slack stopped sending it long before
    assert [r.id for r in later.records()] == [kept.id]


def test_a_quarantine_write_that_fails_gives_its_place_back(home: Home, clock: FixedClock) -> None:
    """The day's count was taken before the write: a write the disk refused used up one of
    the day's places, and enough of them (a disk that came back) left the shard 'full'
    with nothing in it. Here today's shard is a link to a volume that is not there."""
    quarantine = Quarantine(home, clock=clock, daily_limit=1)
    shard = home.quarantine_dir / "2026-11-02"
    home.quarantine_dir.mkdir(parents=True, exist_ok=True)
    shard.symlink_to(home.root / "unmounted")
    with pytest.raises(OSError):
        quarantine.put(source="events_api", reason="r1", payload={"a": 1})
    shard.unlink()
    kept = quarantine.put(source="events_api", reason="r2", payload={"a": 2})
    assert kept is not None and [r.id for r in quarantine.records()] == [kept.id]
    assert quarantine.put(source="events_api", reason="r3", payload={"a": 3}) is None  # full


def test_a_payload_json_can_nest_but_a_record_cannot_is_kept_as_its_text(
    home: Home, clock: FixedClock
) -> None:
    """Nested 600 deep, a payload encodes as JSON but is past what the record's model
    validates: the ValidationError left put (an interaction unacked, with a traceback);
    it is kept as the start of its JSON text, like a payload too big to keep whole."""
    deep: object = "x"
    for _ in range(600):
        deep = [deep]
    quarantine = Quarantine(home, clock=clock)
    kept = quarantine.put(source="interactive", reason="r", payload={"v": deep})
    assert kept is not None and kept.payload is None
    assert kept.excerpt.startswith('{"v": [[[') and kept.size == len(kept.excerpt)
    assert [r.id for r in quarantine.records()] == [kept.id]
