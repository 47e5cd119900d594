"""Streamed replies end as their reply, exactly once, whatever crashes in between.

A model's text streams into a message (``reply_stream.SlackReplyStream``) that belongs to
the outbox ``reply`` entry the text will be queued as. The rules that keep a streamed
answer one message in the thread:

- Only the delivery of that entry makes the stream final (``finalize``, from
  ``SlackSurface.post_reply``): with the reply's exact text and the entry's outbox
  metadata, in one call when the streamed text is a prefix of the reply (the rest and the
  metadata go with ``chat.stopStream``), else ``chat.stopStream`` then ``chat.update``.
  The metadata lands with the final text, never before, so a delivery retried after a
  crash finds the finished message (``check_first``) and adopts it.
- A stream whose reply will never be queued (the model failed, a person stopped it, a
  retry voided its text) is stopped and deleted.
- Every stream is in the journal (``stream_journal``) from before it starts until one
  of the above. At start-up ``sweep`` deals with what a dead process left: a stream whose
  reply is still pending waits for that delivery to finalize it; any other is deleted (and
  so, at each sweep, is one of this process's whose reply's delivery ended without it). A
  start that may have landed without signoff learning its ``ts`` is found by reading the
  thread: a message of the bot's without signoff's metadata is such a stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Iterable
from typing import TYPE_CHECKING, Any, Literal

from slack_sdk.web.async_client import AsyncWebClient

from agent_core.live import LiveTurn
from sessions import (
    Clock,
    CorruptRecordError,
    Home,
    OutboxDone,
    SystemClock,
    ThreadKey,
    coordination_for,
    utc_iso,
)

from .slack_answers import PERMANENT
from .slack_errors import slack_error
from .stream_journal import StreamJournal, StreamRecord, StreamTask
from .stream_messages import StreamMessages
from .surface_support import SurfaceSupport
from .thread_posts import ThreadPosts

if TYPE_CHECKING:
    from .reply_stream import SlackReplyStream

__all__ = ["LiveStreams"]

log = logging.getLogger("signoff.slack")


class LiveStreams:
    """The streams of this process, and the journal of every process's streams."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        home: Home,
        support: SurfaceSupport | None = None,
        clock: Clock | None = None,
        bot_id: str = "",
        interval: float = 0.3,
        finalize_wait: float = 300.0,
    ) -> None:
        self.client = client
        self.journal = StreamJournal(home)
        self.outbox = coordination_for(home).outbox
        self.support = support or SurfaceSupport()
        self.clock = clock or SystemClock()
        self.interval = interval
        self.finalize_wait = finalize_wait
        self.owner = secrets.token_hex(8)
        self.messages = StreamMessages(client, journal=self.journal, support=self.support)
        self.messages.bot_id = bot_id  # "": learnt when first needed
        self.posts = ThreadPosts()  # every post in a thread, streams' and the surface's
        self._live: dict[str, SlackReplyStream] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        # Per entry: delivery, a late sweep and a take-away never act on one stream at once.
        self._locks: dict[str, asyncio.Lock] = {}
        # Entries whose result record does not parse: named once, not at every sweep.
        self._unreadable: set[str] = set()

    # this process's streams ----------------------------------------------------------
    def open(self, turn: LiveTurn, *, entry_id: str, people: tuple[str, ...]) -> SlackReplyStream:
        from .reply_stream import SlackReplyStream  # it imports this module

        stream = SlackReplyStream(self, turn, entry_id=entry_id, people=people)
        self._live[entry_id] = stream
        return stream

    def forget(self, entry_id: str) -> None:
        self._live.pop(entry_id, None)

    def spawn(self, work: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.warning("a live stream update failed: %s: %s", type(exc).__name__, exc)

    async def drain(self, within: float = 5.0) -> None:
        """Let pending stream updates finish (bounded), then cancel what is left."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                while self._tasks:
                    await asyncio.gather(*list(self._tasks), return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()

    @contextlib.asynccontextmanager
    async def _entry(self, entry_id: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(entry_id, asyncio.Lock())
        try:
            async with lock:
                yield
        finally:
            if not lock.locked() and self._locks.get(entry_id) is lock:
                del self._locks[entry_id]

    def record(
        self, turn: LiveTurn, entry_id: str, ts: str = "", tasks: Iterable[dict[str, Any]] = ()
    ) -> StreamRecord:
        return StreamRecord(
            entry_id=entry_id,
            thread=turn.thread,
            session_id=turn.session_id,
            ts=ts,
            started_at=utc_iso(self.clock.now()),
            owner=self.owner,
            tasks=tuple(map(StreamTask.of, tasks)),
        )

    # delivery's side -------------------------------------------------------------------
    async def ready(self, entry_id: str) -> None:
        """Wait until the entry's stream shows nothing more (its turn's calls ended), at
        most ``finalize_wait`` in all."""
        live = self._live.get(entry_id)
        if live is not None:
            await live.wait_closed(self.finalize_wait)

    async def finalize(self, entry_id: str, text: str, *, metadata: dict[str, Any]) -> str:
        """Make the entry's stream its reply; its ts, or "" when there is none to finalize
        (then the reply is posted as usual). Slack's errors propagate for delivery."""
        live = self._live.get(entry_id)
        if live is not None:
            await live.wait_closed(self.finalize_wait)  # at once when ``ready`` waited
            return await live.finalize(text, metadata=metadata)
        async with self._entry(entry_id):
            record = self.journal.get(entry_id)
            if record is None:
                return ""
            if not record.ts:
                await self.take_away(record)  # a start never answered: any such message goes
                return ""
            shown = await self.messages.finalize_at(
                record.thread, record.ts, text, metadata=metadata, sent=None,
                chunks=record.ending(),
            )  # fmt: skip
            self.journal.remove(entry_id)
            return record.ts if shown else ""

    async def settled(self, entry_id: str, *, ts: str) -> bool:
        """The reply was found in the thread as ``ts`` (or never will be: ""): a stream
        that is not it goes; False when it is still there (see ``take_away``)."""
        live = self._live.pop(entry_id, None)
        if live is not None:
            async with live.lock:
                live.ended = True
        async with self._entry(entry_id):
            record = self.journal.get(entry_id)
            if record is None:
                return True
            if record.ts != ts:
                return await self.take_away(record)
            self.journal.remove(entry_id)
            return True

    # taking streams away ---------------------------------------------------------------
    async def take_away(self, record: StreamRecord) -> bool:
        """Stop and delete a stream that will not become a reply; True when it is gone
        (its record removed), False when not: the record stays to try again later, unless
        Slack refused for good."""
        try:
            if record.ts:
                await self.messages.stop_quietly(record.thread, record.ts, None)
                await self.messages.delete(record.thread, record.ts)
            else:
                for ts in await self.messages.strays(record.thread):
                    await self.messages.stop_quietly(record.thread, ts, None)
                    await self.messages.delete(record.thread, ts)
        except Exception as exc:
            if slack_error(exc) not in PERMANENT:
                log.info("could not take away stream %s yet: %s", record.entry_id, exc)
                return False
            # Never to be taken away (compliance exports refuse every delete): kept listed, it
            # was asked for again at every sweep, for good. The operator hears of it once.
            log.warning(
                "stream %s stays in %s as %s: Slack refused to take it away (%s)",
                record.entry_id, record.thread.label(), record.ts, slack_error(exc),
            )  # fmt: skip
            self.journal.remove(record.entry_id)
            return False
        self.journal.remove(record.entry_id)
        return True

    async def sweep(self) -> int:
        """Deal with streams dead processes left, and this one's that could not be taken
        away when they ended (Slack refused) or whose reply's delivery ended without them;
        how many were taken away."""
        gone = 0
        for entry_id, live in list(self._live.items()):
            # Its reply's delivery ended without reaching it (Slack refused the thread for
            # good first): left here, it stayed for as long as the process ran, and so did
            # its journal record, passed over below as still streaming.
            done = self._ended(live.turn.thread, entry_id)
            if isinstance(done, OutboxDone):
                await self.settled(entry_id, ts=done.ts)
        for listed in self.journal.all():
            if listed.owner == self.owner and listed.entry_id in self._live:
                continue  # still streaming, or its reply's delivery finalizes it
            async with self._entry(listed.entry_id):
                record = self.journal.get(listed.entry_id)  # delivery may have finished it
                if record is None:
                    continue
                done = self._ended(record.thread, record.entry_id)
                if done is False:
                    continue
                if done is None and self.outbox.queued(record.thread, record.entry_id):
                    continue  # its reply is pending: delivering it finalizes this stream
                if done is not None and record.ts and done.ts == record.ts:
                    self.journal.remove(record.entry_id)  # it is the reply already
                    continue
                gone += int(await self.take_away(record))
        if gone:
            log.info("took away %d stream(s) left unfinished", gone)
        return gone

    def _ended(self, thread: ThreadKey, entry_id: str) -> OutboxDone | Literal[False] | None:
        """How the entry's delivery ended, None when it has not, False when its record does
        not parse: not knowing whether the stream is its reply, the sweep leaves it as it is
        (raised, it stopped the sweep of every other stream, every pass)."""
        try:
            return self.outbox.done(thread, entry_id)
        except CorruptRecordError as exc:
            if entry_id not in self._unreadable:
                self._unreadable.add(entry_id)
                log.warning(
                    "stream %s left as it is, its reply's result unreadable: %s", entry_id, exc
                )
            return False
