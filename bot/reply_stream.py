"""One model reply streaming into the thread (``chat.startStream`` / ``appendStream``),
with its tool calls as task steps, until delivery makes it final (``live_streams``).

The loop's calls return at once: Slack calls run in the background, one at a time per
stream, and text is sent in batches (every ``interval`` seconds). Text is rendered as
the reply will be (``escape_reply``), and only up to a ``<`` that may still become a
mention of one of the reply's people, so what was sent stays a prefix of the final text and the stream can be finished
by sending the rest. A failure only stops the live view: the reply is delivered anyway.

A reply that is complete before its first batch is due (a fast model, the offline one)
starts no stream at all: it is simply posted, as it would be without a live view.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from agent_core.live import LiveTurn, ToolStep

from .slack_errors import definite, slack_error
from .slack_text import escape_reply, whole_cut
from .stream_journal import StreamTask
from .stream_steps import finished, task_chunk, unsaid

if TYPE_CHECKING:
    from .live_streams import LiveStreams

__all__ = ["STREAM_LIMIT", "SlackReplyStream"]

log = logging.getLogger("signoff.slack")

# Longer replies are split into several messages (reply_parts.MESSAGE_LIMIT): the
# stream shows at most the first.
STREAM_LIMIT = 3500
# The end of a text that may still become a markdown link's ``](target`` or ``]:target``.
_UNDECIDED_LINK = re.compile(r"\][(:]\s*(?:[A-Za-z][A-Za-z0-9+.\-]*|/|<[^>\s]*)?\Z")


class SlackReplyStream:
    def __init__(
        self, streams: LiveStreams, turn: LiveTurn, *, entry_id: str, people: tuple[str, ...]
    ) -> None:
        self.streams = streams
        self.turn = turn
        self.entry_id = entry_id
        self.people = people
        self.raw = ""
        self.sent = ""
        self.ts = ""
        self.tasks: dict[str, dict[str, Any]] = {}
        # The steps the journal holds for this stream (written before each change is sent).
        self.journaled: tuple[StreamTask, ...] = ()
        # Each step as Slack took it, last: a finished message says only what is new.
        self.shown: dict[str, dict[str, Any]] = {}
        self.lock = asyncio.Lock()
        # Set once nothing more will be shown: delivery may finalize it then.
        self.closed = asyncio.Event()
        # Finalized or taken away: the live side makes no more calls.
        self.ended = False
        # No more text goes out (an error, a lacking surface): delivery replaces the text.
        self.broken = False
        # The loop said the reply is complete: no stream starts any more.
        self.closing = False
        # When waiting for ``closed`` ends, counted from the first wait (loop time).
        self.wait_until: float | None = None
        self._flush_due: asyncio.Task[Any] | None = None

    # what the loop calls -----------------------------------------------------------
    async def text(self, delta: str) -> None:
        if self.ended or self.closed.is_set():
            return
        self.raw += delta
        if self._flush_due is None:
            self._flush_due = self.streams.spawn(self._flush_later())

    async def restart(self) -> None:
        self.raw = ""
        self.streams.spawn(self._serial(self._discard_message))

    async def steps(self, steps: Sequence[ToolStep]) -> None:
        chunks = [task_chunk(s) for s in steps]
        for chunk in chunks:
            self.tasks[chunk["id"]] = chunk
        self.streams.spawn(self._serial(lambda: self._send_tasks(chunks)))

    async def close(self) -> None:
        if not self.closing and not self.ended:
            self.closing = True
            self.streams.spawn(self._serial(self._close))

    async def abandon(self) -> None:
        if self.ended:
            return
        self.ended = True
        self.closed.set()
        self.streams.spawn(self._serial(self._take_away, after_end=True))

    # delivery's side -----------------------------------------------------------------
    async def wait_closed(self, within: float) -> None:
        """Until nothing more will be shown, or ``within`` seconds after the first wait."""
        if self.wait_until is None:
            self.wait_until = asyncio.get_running_loop().time() + within
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(self.wait_until):  # never swallows a cancel
                await self.closed.wait()

    async def finalize(self, text: str, *, metadata: dict[str, Any]) -> str:
        """Make this stream the reply (``text``, ``metadata``); its ts, or "" if there is
        no message to finalize (then the reply is posted as usual)."""
        async with self.lock:
            if self.ended:
                return ""
            record = self.streams.journal.get(self.entry_id)
            if not self.ts:
                self.ended = True
                if record is not None:
                    await self.streams.take_away(record)
                self.streams.forget(self.entry_id)
                return ""
            sent = None if self.broken else self.sent
            # Slack takes no step updates once the message is finished: a step still
            # running (a call that outlasted the wait for it) would spin for ever.
            chunks = unsaid(finished(self.tasks.values()), self.shown)
            shown = await self.streams.messages.finalize_at(
                self.turn.thread, self.ts, text, metadata=metadata, sent=sent, chunks=chunks
            )
            self.ended = True
            self.streams.journal.remove(self.entry_id)
            self.streams.forget(self.entry_id)
            return self.ts if shown else ""

    # in the background, one at a time ----------------------------------------------------
    async def _serial(
        self, work: Callable[[], Awaitable[None]], *, after_end: bool = False
    ) -> None:
        async with self.lock:
            if not self.ended or after_end:
                await work()

    async def _flush_later(self) -> None:
        # Not past the close: ``_close`` has sent the rest by then, and a flush left asleep
        # held the bot's stop (which waits for stream updates) for up to an interval.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.streams.interval):
                await self.closed.wait()
        self._flush_due = None
        async with self.lock:
            await self._flush()

    def _markdown(self) -> str:
        raw = self.raw
        # A ``](`` whose target has not come yet: whether its ``]`` gets the zero-width
        # space (``escape_reply``) is known only once it has ("https:" does, "event)"
        # does not), and the space goes before what would have been sent.
        if undecided := _UNDECIDED_LINK.search(raw):
            raw = raw[: undecided.start() + 1]
        cut = raw.rfind("<")
        # A mention of one of the reply's people may be on its way (the one markup
        # ``escape_reply`` lets through): wait for the rest. Any other ``<`` ("a < b",
        # "<!here>") is escaped whatever follows, so it holds nothing back.
        tail = raw[cut:]
        if cut >= 0 and ">" not in tail and any(f"<@{p}>".startswith(tail) for p in self.people):
            raw = raw[:cut]
        markdown = escape_reply(raw, people=self.people)
        # Cut as ``split_message`` hard-cuts a long line: never inside an entity, a mention
        # or a fence (a first message that ends earlier is finished with chat.update).
        return markdown[: whole_cut(markdown, STREAM_LIMIT)]

    async def _flush(self) -> None:
        if self.ended or self.broken:
            return
        markdown = self._markdown()
        if not markdown.startswith(self.sent):
            self.broken = True
            return
        new = markdown[len(self.sent) :]
        if not new.strip() and not self.ts:
            return  # nothing to show yet
        if not new:
            return
        if not self.ts:
            if not self.closing:
                await self._start(new)
        else:
            await self._call("chat.appendStream", markdown_text=new)
            if not self.broken:
                self.sent += new

    async def _start(self, first: str) -> None:
        streams, turn = self.streams, self.turn
        if not streams.support.offers("streams"):
            self.broken = True
            return
        # With the steps it starts with: Slack shows them from the start.
        record = streams.record(turn, self.entry_id, tasks=self.tasks.values())
        await asyncio.to_thread(streams.journal.put, record)
        self.journaled = record.tasks
        # Slack's reference: the team the person receiving the stream belongs to, which for
        # a Slack Connect guest is their own, not the channel host's (the thread's).
        args: dict[str, Any] = {"recipient_team_id": turn.requester_team or turn.thread.team}
        if turn.requester:
            args["recipient_user_id"] = turn.requester
        sent_at = time.monotonic()
        tasks = list(self.tasks.values())
        try:
            started = await streams.client.chat_startStream(
                channel=turn.thread.channel,
                thread_ts=turn.thread.thread_ts,
                markdown_text=first,
                chunks=tasks or None,
                **args,
            )
        except Exception as exc:
            self.broken = True
            if streams.support.check("streams", "chat.startStream", exc) or definite(exc):
                streams.journal.remove(self.entry_id)  # nothing was posted
            else:  # it may have landed: the journal's record without ts finds it later
                log.info("chat.startStream in %s may have failed: %s", turn.thread.label(), exc)
            return
        self.ts, self.sent = str(started["ts"]), first
        self.shown = {c["id"]: c for c in tasks}
        streams.posts.posted(turn.thread, sent_at=sent_at)
        await self._journal()

    async def _journal(self) -> None:
        """Record the stream with its ts and the steps it shows (before Slack shows them)."""
        record = self.streams.record(
            self.turn, self.entry_id, ts=self.ts, tasks=self.tasks.values()
        )
        await asyncio.to_thread(self.streams.journal.put, record)
        self.journaled = record.tasks

    async def _send_tasks(self, chunks: list[dict[str, Any]]) -> None:
        if self.ts and not self.ended:
            if tuple(map(StreamTask.of, self.tasks.values())) != self.journaled:
                await self._journal()
            if await self._call("chat.appendStream", chunks=chunks):
                self.shown.update((c["id"], c) for c in chunks)

    async def _call(self, method: str, **args: Any) -> bool:
        """True when Slack took it."""
        try:
            await self.streams.client.chat_appendStream(
                channel=self.turn.thread.channel, ts=self.ts, **args
            )
        except SlackApiError as exc:
            self.broken = True  # an answer from Slack: it did not append
            if self.streams.support.check("streams", method, exc):
                return False  # said once; later replies are posted whole
            if slack_error(exc) != "message_not_in_streaming_state":  # else: a person stopped it
                log.info("%s failed for %s: %s", method, self.entry_id, slack_error(exc))
            return False
        except Exception as exc:
            self.broken = True  # it may have appended: the final text replaces it all
            log.info("%s failed for %s: %s", method, self.entry_id, exc)
            return False
        return True

    async def _close(self) -> None:
        await self._flush()  # the rest of the text shows while the tools run
        self.closed.set()
        queued = await asyncio.to_thread(
            self.streams.outbox.queued, self.turn.thread, self.entry_id
        )
        if not queued:  # no reply will come for it (a turn that broke off)
            self.ended = True
            await self._take_away()

    async def _discard_message(self) -> None:
        """A retry voided the text: the message goes; the next text starts a new one."""
        if self.ts or self.streams.journal.get(self.entry_id) is not None:
            record = self.streams.journal.get(self.entry_id) or self.streams.record(
                self.turn, self.entry_id, ts=self.ts
            )
            if not await self.streams.take_away(record):
                # Slack would not take it away yet. A new message would replace its journal
                # record (one per entry) and leave it in the thread for good: no more text
                # shows, and delivery makes this one the reply (or takes it away again).
                self.broken = True
                return
        self.ts, self.sent, self.broken, self.shown = "", "", False, {}

    async def _take_away(self) -> None:
        record = self.streams.journal.get(self.entry_id)
        if record is None and self.ts:
            record = self.streams.record(self.turn, self.entry_id, ts=self.ts)
        if record is not None:
            await self.streams.take_away(record)
        self.streams.forget(self.entry_id)
