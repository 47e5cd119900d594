"""Events → the thread inbox (design flow 1), and only then the ack.

The socket handler calls ``EventIngest.handle`` for every ``events_api`` envelope and
acks when it returns; if it raises (a full disk), the envelope is not acked and Slack
redelivers it. Dedupe is twofold: a short in-memory window of event ids answers fast,
and the inbox's file names (the message ``ts``) make the durable decision, which also
folds a mention's ``message`` and ``app_mention`` twins into one.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError

from agent_core.engine import Engine
from sessions import InboxMessage, InvalidIdError, ThreadKey, utc_iso

from .payloads import EventCallback, MessageEvent

__all__ = ["EventIngest", "StillStoring"]

log = logging.getLogger("signoff.ingest")

# Plain user messages only: edits, deletions, joins and bot posts are not requests.
_ACCEPTED_SUBTYPES = {None, "thread_broadcast", "file_share"}

Taken = Callable[[MessageEvent], Awaitable[None]]


class StillStoring(Exception):
    """A redelivered event whose first copy is still being written: do not ack it yet."""


class EventIngest:
    def __init__(
        self,
        engine: Engine,
        *,
        bot_user_id: str,
        bot_id: str,
        on_taken: Taken | None = None,
        window: int = 10_000,
    ) -> None:
        self.engine = engine
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.on_taken = on_taken
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._storing: set[str] = set()
        self._window = window
        self._background: set[asyncio.Task[Any]] = set()

    def _seen_recently(self, event_id: str) -> bool:
        if event_id in self._recent:
            self._recent.move_to_end(event_id)
            return True
        return False

    def _remember(self, event_id: str) -> None:
        self._recent[event_id] = None
        if len(self._recent) > self._window:
            self._recent.popitem(last=False)

    def _spawn(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def handle(self, payload: dict[str, Any]) -> str:
        """Store the message if it is one for us; returns what happened, for logs and tests."""
        try:
            callback = EventCallback.model_validate(payload)
        except ValidationError as exc:
            # Redelivery cannot fix a malformed payload: ack it, and say so in the log.
            log.warning("malformed event payload: %s", exc.errors()[0]["msg"])
            return "rejected: malformed payload"
        event = callback.event
        why = self._ignored(event)
        if why:
            return f"ignored: {why}"
        try:
            thread = ThreadKey(
                team=callback.team_id, channel=event.channel, thread_ts=event.thread_ts or event.ts
            )
        except (InvalidIdError, ValidationError):
            return "rejected: malformed channel or timestamp"
        if event.type == "message" and not self.engine.knows_thread(thread):
            return "ignored: not a thread signoff takes part in"
        if self._seen_recently(callback.event_id):
            return "duplicate: event id"
        if callback.event_id in self._storing:
            # A redelivery while the first copy is still being written: acking it would
            # be a promise the first write might not keep, so it stays unacked.
            raise StillStoring(callback.event_id)
        message = InboxMessage(
            thread=thread,
            ts=event.ts,
            user=event.user,
            text=html.unescape(event.text),
            event_id=callback.event_id,
            received_at=utc_iso(self.engine.clock.now()),
        )
        self._storing.add(callback.event_id)
        try:
            fresh = await self.engine.ingest(message)
        finally:
            self._storing.discard(callback.event_id)
        # Only a stored message makes its event id a duplicate.
        self._remember(callback.event_id)
        self._spawn(self.engine.remember_event(callback.event_id))
        if not fresh:
            return "duplicate: message"
        if self.on_taken is not None:
            self._spawn(self.on_taken(event))
        return "stored"

    def _ignored(self, event: MessageEvent) -> str:
        if event.type not in ("app_mention", "message"):
            return f"event type {event.type}"
        if event.subtype not in _ACCEPTED_SUBTYPES:
            return f"message subtype {event.subtype}"
        if event.bot_id or event.user == self.bot_user_id:
            return (
                "a bot's own message"
                if event.bot_id == self.bot_id or event.user == self.bot_user_id
                else "another bot"
            )
        if not event.user or not event.ts or not event.channel:
            return "no user, channel or ts"
        if event.channel_type == "im":
            return "direct messages are not supported"
        return ""

    async def drain(self) -> None:
        """Wait for background work (reactions, seen-event rows) to finish."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)
