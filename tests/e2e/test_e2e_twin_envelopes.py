"""A mention's twins (``app_mention`` and ``message``: two envelopes, two event ids, one
channel and ts) and their redeliveries, against the real bot, trying to break the ingest's
promises: what is acked is durable at the moment of the ack, every acked message is
answered exactly once, and each copy not stored says why.

Every test audits Slack's side (``AckAudit``), looking at the disk in LocalSlack's own loop
the instant each ack frame is read: an envelope acked as stored or duplicate must find its
message in its thread's inbox (``new/``, or ``taken.jsonl`` once in a session), and once
every twin of a message is acked (Slack sends it no more), it must be there too.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import re
import threading
from collections import Counter
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from signoff_e2e_kit import (
    answered_deliveries,
    bot_messages,
    bot_reply,
    deliveries_of,
    inbox_stored,
    inbox_waiting,
    mention,
    quick_acks,
    session_states,
    thread_path,
    until,
)

from bot.app import SignoffBot
from bot.config import Settings
from localslack import Delivery, LocalSlack
from sessions.atomic import fsync_file

if TYPE_CHECKING:
    from conftest import BotFactory

_LINE = re.compile(
    r"^events_api (?P<event_id>\S+) (?P<fate>[a-z]+)(?::\s(?P<reason>.*?))?"
    r"(?P<unacked>; left unacked for Slack to deliver again)?$"
)


class AckAudit:
    """Each ack of a watched message's envelopes, as the ack frame arrives. Acked before its
    message is in the inbox is right for one kind of copy only: a ``message`` twin ignored
    before signoff knew its thread (its ``app_mention`` twin, still unacked, brings it).
    Once every twin is acked, Slack sends the message no more: it must be stored by then."""

    TWINS = 2  # a mention is sent as app_mention and as message

    def __init__(self, slack: LocalSlack, home: Path, caplog: pytest.LogCaptureFixture) -> None:
        self.home = home
        self.caplog = caplog
        self.watched: dict[str, str] = {}  # message ts -> its thread's ts
        self.acked: dict[str, str] = {}  # envelope id -> its message's ts
        self.events: dict[str, set[str]] = {}  # message ts -> its event ids acked
        self.early: Counter[str] = Counter()  # event ids acked before the message was stored
        self.lost: list[str] = []  # messages Slack was done with before they were stored
        self._waiting = asyncio.ensure_future(slack.wait_for_delivery(self._look, timeout=120))

    def watch(self, ts: str, *, thread: str | None = None) -> str:
        self.watched[ts] = thread or ts
        return ts

    def _look(self, delivery: Delivery) -> bool:
        event = delivery.payload.get("event") if isinstance(delivery.payload, dict) else None
        ts = event.get("ts") if isinstance(event, dict) else None
        if not (delivery.acked and ts in self.watched) or delivery.envelope_id in self.acked:
            return False
        self.acked[delivery.envelope_id] = ts
        done = self.events.setdefault(ts, set())
        done.add(str(delivery.event_id))
        if not inbox_stored(thread_path(self.home, self.watched[ts]), ts):
            self.early[str(delivery.event_id)] += 1
            if len(done) == self.TWINS:
                self.lost.append(ts)
        return False  # never done: it looks at every change until closed

    async def check(self) -> None:
        """Stop looking; fail on an ack the bot had no right to send."""
        self._waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._waiting
        assert self.lost == []
        told = fates(self.caplog, set(self.early))
        ignored = Counter(event_id for event_id, fate, _ in told if fate == "ignored")
        assert self.early <= ignored, told


def fates(
    caplog: pytest.LogCaptureFixture, event_ids: set[str | None], *, since: int = 0
) -> list[tuple[str, str, str]]:
    """(event id, fate, reason) of each envelope of these events: the bot's line for each
    (of the lines from the ``since``-th on)."""
    out = []
    for record in caplog.records[since:]:
        if record.name != "signoff.socket":
            continue
        line = _LINE.match(record.getMessage())
        if line and line["event_id"] in event_ids:
            out.append((line["event_id"], line["fate"], line["reason"] or ""))
    return out


@pytest.fixture(autouse=True)
def socket_lines(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """The bot's one line an envelope (stored and duplicate lines are DEBUG)."""
    with caplog.at_level(logging.DEBUG, logger="signoff.socket"):
        yield


def answers(slack: LocalSlack, thread: str, service: str) -> int:
    return len(bot_messages(slack, thread, f"service={service},"))


def staged(home: Path) -> list[Path]:
    """Staged copies (``.<ts>.<random>``) left in any inbox."""
    return sorted((home / "threads").glob("*/*/*/*/inbox/new/.*"))


class DiskGate:
    """The inbox's fsync of a staged message, held or failed on demand (a slow or failing
    disk under the real delivery: everything above it runs as in production)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.entered = 0
        self.left = 0
        self.failures_left = 0
        self.hold = threading.Event()
        self.hold.set()  # open until closed
        self._lock = threading.Lock()
        monkeypatch.setattr("sessions.inbox.fsync_file", self.fsync)

    def fsync(self, fd: int) -> None:
        with self._lock:
            self.entered += 1
        try:
            self.hold.wait(30)
            with self._lock:
                failing = self.failures_left > 0
                self.failures_left -= failing
            if failing:
                raise OSError(errno.EIO, "Input/output error")
            fsync_file(fd)
        finally:
            with self._lock:
                self.left += 1


@quick_acks
async def test_twins_and_three_more_copies_of_each_all_at_once_are_answered_once(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Six mentions arrive while signoff is away; Slack holds their twins and, as a retrying
    Slack would, three more copies of each (48 envelopes), then sends them all the moment a
    socket connects. Each mention is stored once, answered once, and every other copy is
    acked as a duplicate (or ignored, or left for Slack to send again) with its reason."""
    audit = AckAudit(slack, settings.home, caplog)
    threads = [audit.watch(await mention(slack, "status of api")) for _ in range(6)]
    held = list(slack.deliveries(type="events_api"))
    assert sorted(d.kind for d in held) == ["app_mention"] * 6 + ["message"] * 6
    assert not any(d.sent_at for d in held)  # nobody listening: Slack holds them
    for delivery in held:
        for _ in range(3):
            await slack.send_envelope(type="events_api", payload=delivery.payload)
    bot: SignoffBot = await start_bot()
    for thread in threads:
        await bot_reply(slack, thread, "service=api,")
        await until(partial(answered_deliveries, slack, thread), what="each event acked")
    await bot.engine.idle()
    assert {t: answers(slack, t, "api") for t in threads} == dict.fromkeys(threads, 1)
    assert len(session_states(settings.home)) == 6
    assert inbox_waiting(settings.home) == [] and staged(settings.home) == []
    await audit.check()
    for thread in threads:
        told = fates(caplog, {d.event_id for d in deliveries_of(slack, thread)})
        assert len(told) == len(deliveries_of(slack, thread)) >= 8, told  # one line an envelope
        assert [f for _, f, _ in told].count("stored") == 1, told
        others = Counter(f"{f}: {r}" for _, f, r in told if f != "stored")
        assert set(others) <= {
            "duplicate: message already stored",
            "duplicate: event id seen",
            "ignored: not a thread signoff takes part in",  # a `message` twin ahead of the mention
        }, others


@quick_acks
@pytest.mark.parametrize("twin_fails_too", [False, True], ids=["twin-stores", "both-fail"])
async def test_a_first_copy_whose_store_fails_while_its_twin_waits_is_never_acked_and_lost(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    twin_fails_too: bool,
) -> None:
    """The disk fails the first copy's fsync once its twin was sent (which then waits on the
    first copy, whichever of the two came first). The twin is stored itself (or, when the disk fails it too, both stay unacked and Slack's
    redeliveries store the message): either way every ack is of a durable message, and
    the mention is answered once."""
    bot: SignoffBot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    audit = AckAudit(slack, settings.home, caplog)
    thread = await mention(slack, "status of api")
    await bot_reply(slack, thread, "service=api,")
    await bot.engine.idle()  # a thread signoff takes part in: both twins of a reply are for it
    gate = DiskGate(monkeypatch)
    gate.hold.clear()
    gate.failures_left = 2 if twin_fails_too else 1
    ts = audit.watch(await mention(slack, "status of web", thread_ts=thread), thread=thread)
    await until(lambda: gate.entered == 1, what="the first copy in its fsync")
    twins = deliveries_of(slack, ts)
    assert sorted(d.kind for d in twins) == ["app_mention", "message"]
    await until(lambda: all(d.sent_at for d in twins), what="the twin sent too")
    gate.hold.set()
    await bot_reply(slack, thread, "service=web,")
    await until(lambda: answered_deliveries(slack, ts), what="each twin acked")
    await bot.engine.idle()
    assert answers(slack, thread, "web") == 1
    assert inbox_waiting(settings.home) == [] and staged(settings.home) == []
    await audit.check()
    told = fates(caplog, {d.event_id for d in twins})
    assert [f for _, f, _ in told].count("stored") == 1, told
    unacked = [r for _, f, r in told if f == "deferred"]
    assert unacked and all(r.startswith("could not store: ") for r in unacked), told
    retried = [d for d in deliveries_of(slack, ts) if d.retry_attempt]
    assert len(retried) == len(unacked) and all(d.acked for d in retried)


@quick_acks
async def test_a_twin_that_comes_after_its_message_was_taken_and_forgotten_is_a_duplicate(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A process remembers what it stored for a while; a new one remembers nothing. A twin
    (its own event id) sent again after the message was taken into a session, to a process
    that never saw it, is found in ``taken.jsonl``: a duplicate, no second answer."""
    first: SignoffBot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    audit = AckAudit(slack, settings.home, caplog)
    thread = audit.watch(await mention(slack, "status of api"))
    await bot_reply(slack, thread, "service=api,")
    ts = audit.watch(await mention(slack, "status of db", thread_ts=thread), thread=thread)
    await bot_reply(slack, thread, "service=db,")
    await until(lambda: answered_deliveries(slack, ts), what="both twins acked")
    await first.engine.idle()
    await first.stop(grace=5)
    await until(lambda: not slack.sockets(), what="the old socket to close")
    sessions = session_states(settings.home)
    second: SignoffBot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    since = len(caplog.records)  # the lines before were the first process's
    for twin in deliveries_of(slack, ts) + deliveries_of(slack, thread):
        again = await slack.send_envelope(type="events_api", payload=twin.payload)
        await slack.wait_for_ack(again.envelope_id)
    await second.engine.idle()
    assert answers(slack, thread, "db") == 1 and answers(slack, thread, "api") == 1
    assert session_states(settings.home) == sessions
    assert inbox_waiting(settings.home) == []
    await audit.check()
    resent = {d.event_id for d in deliveries_of(slack, ts) + deliveries_of(slack, thread)}
    told = {(f, r) for _, f, r in fates(caplog, resent, since=since)}
    assert told == {("duplicate", "message already stored")}


@quick_acks
async def test_a_stop_while_twins_are_mid_store_leaves_each_acked_message_answered_once(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Three mentions' first copies are in their fsync, their twins waiting, when the bot is
    told to stop: the stop cuts the frames it cannot finish (unacked). Their disk writes end
    after the cut, one failing and two storing the message nobody acked. The next process
    gets every copy again: each message stored once, answered once, no copy acked before
    its message was durable."""
    first: SignoffBot = await start_bot(drain_s=0)
    await slack.wait_for_sockets(1, timeout=5)
    audit = AckAudit(slack, settings.home, caplog)
    thread = await mention(slack, "status of api")
    await bot_reply(slack, thread, "service=api,")
    await first.engine.idle()
    gate = DiskGate(monkeypatch)
    gate.hold.clear()
    services = ("web", "worker", "db")
    asked = [
        audit.watch(await mention(slack, f"status of {s}", thread_ts=thread), thread=thread)
        for s in services
    ]
    await until(lambda: gate.entered == 3, what="each first copy in its fsync")
    await first.stop()
    assert not any(d.acked for ts in asked for d in deliveries_of(slack, ts))
    gate.failures_left = 1  # the disk fails one of the writes the stop left running
    gate.hold.set()
    await until(lambda: gate.left == gate.entered, what="the writes left running to end")
    assert sum(inbox_stored(thread_path(settings.home, thread), ts) for ts in asked) == 2
    second: SignoffBot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    for service in services:
        await bot_reply(slack, thread, f"service={service},")
    for ts in asked:
        await until(partial(answered_deliveries, slack, ts), what="each twin acked")
    await second.engine.idle()
    assert {s: answers(slack, thread, s) for s in services} == dict.fromkeys(services, 1)
    assert inbox_waiting(settings.home) == [] and staged(settings.home) == []
    await audit.check()
    assert len(audit.acked) == 6  # each twin of each message, once
