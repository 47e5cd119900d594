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
  reply is still pending waits for that delivery to finalize it; any other is deleted. A
  start that may have landed without signoff learning its ``ts`` is found by reading the
  thread: a message of the bot's without signoff's metadata is such a stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from agent_core.live import LiveTurn
from sessions import Clock, Home, SystemClock, ThreadKey, coordination_for, utc_iso

from .message_metadata import METADATA_TYPE, thread_messages
from .slack_errors import PERMANENT, slack_error
from .stream_journal import StreamJournal, StreamRecord, StreamTask
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
        self.bot_id = bot_id
        self.posts = ThreadPosts()  # every post in a thread, streams' and the surface's
        # chat.stopStream moves the thread's agent session (to "active" unless told): what
        # it must show then, as the live view knows it (None: leave Slack's default).
        self.session_status: Callable[[ThreadKey], str | None] = lambda thread: None
        # Told once each chat.stopStream is over, with the session status it carried: read
        # when it was sent, it may have landed after a newer one (see ``_stop_stream``).
        self.session_stopped: Callable[[ThreadKey, str | None], None] = lambda t, carried: None
        self._live: dict[str, SlackReplyStream] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        # Per entry: delivery, a late sweep and a take-away never act on one stream at once.
        self._locks: dict[str, asyncio.Lock] = {}

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
            shown = await self.finalize_at(
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

    async def finalize_at(
        self,
        thread: ThreadKey,
        ts: str,
        text: str,
        *,
        metadata: dict[str, Any],
        sent: str | None,
        chunks: list[dict[str, Any]] | None = None,
    ) -> bool:
        """Message ``ts`` shows ``text`` with ``metadata``; False when it is gone."""
        if sent is not None and text.startswith(sent):
            try:
                await self._stop_stream(
                    thread,
                    ts,
                    markdown_text=text[len(sent) :] or None,
                    chunks=chunks or None,
                    metadata=metadata,
                )
                return True
            except SlackApiError as exc:
                if slack_error(exc) == "message_not_found":
                    return False
                # A workspace that started the stream but lacks stopStream: the update below
                # still makes it the reply (retrying would never succeed).
                lacking = self.support.check("streams", "chat.stopStream", exc)
                if not lacking and slack_error(exc) != "message_not_in_streaming_state":
                    raise
        else:
            await self._stop_quietly(thread, ts, chunks)
        try:
            await self.client.chat_update(
                channel=thread.channel, ts=ts, text=text, metadata=metadata
            )
        except SlackApiError as exc:
            error = slack_error(exc)
            if error == "message_not_found":
                return False
            if error in ("cant_update_message", "edit_window_closed"):
                await self._delete(thread, ts)
                return False
            raise
        return True

    # taking streams away ---------------------------------------------------------------
    async def take_away(self, record: StreamRecord) -> bool:
        """Stop and delete a stream that will not become a reply; True when it is gone
        (its record removed), False when not: the record stays to try again later, unless
        Slack refused for good."""
        try:
            if record.ts:
                await self._stop_quietly(record.thread, record.ts, None)
                await self._delete(record.thread, record.ts)
            else:
                for ts in await self._strays(record.thread):
                    await self._stop_quietly(record.thread, ts, None)
                    await self._delete(record.thread, ts)
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
        away when they ended (Slack refused); how many were taken away."""
        gone = 0
        for listed in self.journal.all():
            if listed.owner == self.owner and listed.entry_id in self._live:
                continue  # still streaming, or its reply's delivery finalizes it
            async with self._entry(listed.entry_id):
                record = self.journal.get(listed.entry_id)  # delivery may have finished it
                if record is None:
                    continue
                done = self.outbox.done(record.thread, record.entry_id)
                if done is None and self.outbox.queued(record.thread, record.entry_id):
                    continue  # its reply is pending: delivering it finalizes this stream
                if done is not None and record.ts and done.ts == record.ts:
                    self.journal.remove(record.entry_id)  # it is the reply already
                    continue
                gone += int(await self.take_away(record))
        if gone:
            log.info("took away %d stream(s) left unfinished", gone)
        return gone

    async def _stop_quietly(
        self, thread: ThreadKey, ts: str, chunks: list[dict[str, Any]] | None
    ) -> None:
        try:
            await self._stop_stream(thread, ts, chunks=chunks or None)
        except SlackApiError as exc:
            if self.support.check("streams", "chat.stopStream", exc):
                return  # nothing to stop it with: it is updated or deleted all the same
            if slack_error(exc) not in ("message_not_in_streaming_state", "message_not_found"):
                raise

    async def _stop_stream(self, thread: ThreadKey, ts: str, **args: Any) -> None:
        """chat.stopStream, which also moves the thread's agent session. The status it
        carries is the one due when it is sent, but it lands whenever it lands: after the
        turn's own "active" (a slow answer, a 429 waited out, a retry), it would bring back
        the stop button of a turn that is over. So the live view hears of every stopStream
        once it is over, and sets the session again, in the thread's order, when the
        status it carried is no longer the one due: the last call to land says the truth."""
        carried = self.session_status(thread)
        try:
            await self.client.chat_stopStream(
                channel=thread.channel, ts=ts, session_status=carried, **args
            )
        finally:
            self.session_stopped(thread, carried)

    async def _delete(self, thread: ThreadKey, ts: str) -> None:
        try:
            await self.client.chat_delete(channel=thread.channel, ts=ts)
        except SlackApiError as exc:
            if slack_error(exc) != "message_not_found":
                raise

    async def _strays(self, thread: ThreadKey) -> list[str]:
        """The bot's messages in the thread that carry no outbox metadata and no file:
        streams whose start was never answered (everything else signoff posts has them).
        Not a stream the journal lists with its ts: another reply's, carrying its metadata
        only once that reply's delivery finishes it (read before the thread, so one
        finished meanwhile shows its metadata there)."""
        if not self.bot_id:
            self.bot_id = str((await self.client.auth_test()).get("bot_id") or "")
        listed = {r.ts for r in await asyncio.to_thread(self.journal.all) if r.thread == thread}
        out: list[str] = []
        async for message in thread_messages(self.client, thread):
            # Marked as ours, with its payload or not: never a stray.
            marked = (message.get("metadata") or {}).get("event_type") == METADATA_TYPE
            if (
                message.get("bot_id") == self.bot_id
                and not marked
                and not message.get("files")
                and message.get("ts") != thread.thread_ts
                and message.get("ts") not in listed
            ):
                out.append(str(message["ts"]))
        return out
