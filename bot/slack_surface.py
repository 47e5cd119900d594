"""Delivering the outbox to Slack's Web API (the engine's ``Surface``).

Every post carries its outbox entry id in the message ``metadata``. When delivery says an
earlier attempt may have landed (``check_first``), the thread is read with
``conversations.replies`` (``include_all_metadata``) and what is already there is adopted
instead of posted again, so a crash never doubles a reply or a card.

Replies go to the originating thread (``thread_ts`` as a string), split at paragraph
boundaries, or uploaded as a file when even that would flood the thread; an app that may
not upload (no ``files:write``) posts those split too, a few messages at most
(``reply_parts.cut_parts``), remembered for the process. A reply whose
text was streamed into the thread is delivered by finalizing that stream with the
reply's text and metadata (``live_streams``) instead of posting it again. Cards are posted
with ``chat.postMessage`` and updated days later with ``chat.update`` on the stored
channel and ts, because a ``response_url`` only lives for 30 minutes.

This client does not retry by itself: a retried post whose first attempt landed would
post twice. Delivery retries, after looking.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from agent_core.recent_keys import RecentKeys
from agent_core.surface import CardView, Delivered, DeliveryError
from agent_core.thread_status import AgentStatus
from sessions import OutboxEntry, ThreadKey

from .card_routing import show_routed_card
from .card_unreachable import tell_refused
from .cards import card_blocks, fallback_text
from .drawn_text import draws_nothing
from .live_streams import LiveStreams
from .message_metadata import metadata, ours
from .notice_sending import send_notice
from .reactions import react_taken
from .reply_parts import MAX_PARTS, attached_start, cut_parts, split_message
from .slack_errors import delivery_error, look_first
from .slack_text import escape_reply, file_text, literal
from .status_sending import send_status
from .surface_calls import delivery_call, guarded, thread_read
from .surface_support import SurfaceSupport

__all__ = ["SlackSurface"]

log = logging.getLogger("signoff.slack")

# For a model's answer Slack would draw as nothing: posted as it is, Slack refused it
# (``no_text``: the renderer drops escape sequences) or showed a blank message.
NOTHING_TO_SHOW = literal(
    "(The model's answer has nothing Slack can show: only invisible or control characters.)"
)


class SlackSurface:
    def __init__(
        self,
        client: AsyncWebClient,
        *,
        streams: LiveStreams | None = None,
        support: SurfaceSupport | None = None,
    ) -> None:
        self.client = client
        self.streams = streams
        # signoff's user id, whose mention a card's quote drops: set from the start-up
        # auth.test, else asked once (a CLI delivering the outbox).
        self.bot_user = ""
        self.support = support or (streams.support if streams is not None else SurfaceSupport())
        # Card versions Slack refused whose people were told (``card_unreachable``).
        self.told_refused: RecentKeys[str] = RecentKeys(1000)

    def _posted(self, thread: ThreadKey, sent_at: float, *, card: bool = False) -> None:
        if self.streams is not None:
            self.streams.posts.posted(thread, sent_at=sent_at, card=card)

    async def _call(self, method: str, *, started: bool = False, **kwargs: Any) -> Any:
        return await delivery_call(self.client, method, started=started, **kwargs)

    # replies ----------------------------------------------------------------------
    async def ready(self, entry: OutboxEntry) -> None:
        """A streamed reply waits for its turn's calls before it is made final."""
        if entry.kind == "reply" and self.streams is not None:
            await self.streams.ready(entry.id)

    async def post_reply(self, entry: OutboxEntry, *, check_first: bool) -> Delivered:
        thread = entry.thread
        # Only signoff's own posts about an approval (reminders, escalations) ping groups.
        groups = entry.mentions if entry.approval_id else ()
        rendered = escape_reply(entry.text, people=entry.mentions, groups=groups)
        parts = split_message(NOTHING_TO_SHOW if draws_nothing(rendered) else rendered)
        landed: dict[int, str] = {}
        promised = ""  # a start in the thread that says the answer is attached
        filename = f"{entry.id}.txt"
        file_landed = False
        if check_first:
            for message in await thread_read(self.client, thread):
                payload = ours(message)
                if payload.get("entry") == entry.id:
                    landed[int(payload.get("part", 0))] = str(message["ts"])
                    promised = str(message["ts"]) if payload.get("attached") else promised
                if any(f.get("name") == filename for f in message.get("files") or []):
                    file_landed = True
        # Not when it went out split already (a process that found uploads refused).
        attach = len(parts) > MAX_PARTS and self.support.offers("files")
        attach = attach and (0 not in landed or bool(promised))
        posted = False
        if attach:
            start = [attached_start(parts)]
            first, posted, _ = await self._post_parts(entry, start, landed, attached=True)
            if file_landed:
                return Delivered(thread.channel, first, adopted=not posted)
            try:
                await self.client.files_upload_v2(
                    channel=thread.channel,
                    thread_ts=str(thread.thread_ts),
                    content=file_text(entry.text),
                    filename=filename,
                    title="Full answer",
                )
                return Delivered(thread.channel, first)
            except Exception as exc:
                if not self.support.check("files", "the file upload", exc):
                    error = delivery_error(exc)
                    if not error.permanent:
                        raise look_first(error) from exc
                    # The start is in the thread: posted in part, never "not posted".
                    partly = f"posted in part (its start, not the attached file): {error.reason}"
                    return Delivered(thread.channel, first, adopted=not posted, partly=partly)
            promised = first
        parts = cut_parts(parts, session_id=entry.session_id)
        if promised:  # it would promise what never comes: it becomes the first part
            try:
                await self._call(
                    "chat_update",
                    started=True,
                    channel=thread.channel,
                    ts=promised,
                    text=parts[0],
                    metadata=metadata(entry.id, part=0),
                )
            except DeliveryError as exc:
                if not exc.permanent:
                    raise
                # The start stays in the thread as it was: posted in part, not "not posted".
                partly = f"posted in part (its start, which Slack refused to update): {exc.reason}"
                return Delivered(thread.channel, promised, adopted=not posted, partly=partly)
            landed[0], posted = promised, True
        first, more, partly = await self._post_parts(entry, parts, landed)
        return Delivered(thread.channel, first, adopted=not (posted or more), partly=partly)

    async def _post_parts(
        self,
        entry: OutboxEntry,
        parts: list[str],
        landed: dict[int, str],
        *,
        attached: bool = False,
    ) -> tuple[str, bool, str]:
        """Post the parts not ``landed`` yet (the first by finalizing the entry's stream, if
        it has one); the first part's ts, whether anything was posted, and what Slack
        refused for good after the first part landed ("" when all of it did)."""
        thread = entry.thread
        mark = {"attached": True} if attached else {}
        first = landed.get(0, "")
        posted = False
        if self.streams is not None:
            if 0 in landed:  # a stream that is not the landed reply must go
                await guarded(self.streams.settled(entry.id, ts=landed[0]))
            else:
                try:
                    first = await guarded(
                        self.streams.finalize(
                            entry.id, parts[0], metadata=metadata(entry.id, part=0, **mark)
                        )
                    )
                except DeliveryError as exc:
                    if not exc.permanent:
                        raise
                    # Its streamed start is in the thread: taken away, "not posted" is true;
                    # else the reply is posted in part, and the record says so.
                    record = self.streams.journal.get(entry.id)
                    if await guarded(self.streams.settled(entry.id, ts="")) or not record:
                        raise
                    why = "its streamed start, which Slack refused to finish"
                    return record.ts, True, f"posted in part ({why}): {exc.reason}"
                posted = bool(first)
        for index, part in enumerate(parts):
            if index in landed or (index == 0 and first):
                continue
            sent_at = time.monotonic()
            try:
                response = await self._call(
                    "chat_postMessage",
                    started=bool(first),  # the reply's start is in the thread
                    channel=thread.channel,
                    thread_ts=str(thread.thread_ts),
                    text=part,
                    mrkdwn=True,
                    metadata=metadata(entry.id, part=index, **mark),
                )
            except DeliveryError as exc:
                if not (exc.permanent and first):
                    raise
                # The thread has the reply's start: it is posted, in part, never "not posted".
                return first, posted, f"posted in part ({index} of {len(parts)}): {exc.reason}"
            self._posted(thread, sent_at)
            posted = True
            first = first or str(response["ts"])
        return first, posted, ""

    # cards ------------------------------------------------------------------------
    async def show_card(
        self, entry: OutboxEntry, view: CardView, *, check_first: bool
    ) -> Delivered:
        if not self.bot_user:
            self.bot_user = str((await self._call("auth_test")).get("user_id") or "")
        if view.capsule.card_channel:  # asked in a DM: the card goes to the approvals channel
            sent_at = time.monotonic()
            shown = await show_routed_card(
                self.client,
                entry,
                view,
                check_first=check_first,
                bot_user=self.bot_user,
                told=self.told_refused,
            )
            if view.card is None:  # the pointer went to the asking thread: its status is gone
                self._posted(view.capsule.thread, sent_at, card=True)
            return shown
        capsule = view.capsule
        card = (view.card.channel, view.card.ts) if view.card else None
        adopted = False
        if card is None and check_first:
            for message in await thread_read(self.client, capsule.thread):
                if ours(message).get("approval") == capsule.id:
                    card, adopted = (capsule.thread.channel, str(message["ts"])), True
                    break
        try:
            if card is None:
                sent_at = time.monotonic()
                response = await self._call(
                    "chat_postMessage",
                    channel=capsule.thread.channel,
                    thread_ts=str(capsule.thread.thread_ts),
                    text=fallback_text(view),
                    blocks=card_blocks(view, bot_user=self.bot_user),
                    metadata=metadata(entry.id, approval=capsule.id),
                )
                self._posted(capsule.thread, sent_at, card=True)
                return Delivered(str(response["channel"]), str(response["ts"]))
            channel, ts = card
            if adopted or view.changed:
                # Updating to what is on disk is idempotent: a repeat shows the same card.
                await self._call(
                    "chat_update",
                    channel=channel,
                    ts=ts,
                    text=fallback_text(view),
                    blocks=card_blocks(view, bot_user=self.bot_user),
                )
        except DeliveryError as exc:
            if exc.permanent:  # given up: its people may hear of it nowhere else
                await tell_refused(
                    self.client,
                    entry,
                    view,
                    error=exc.reason,
                    posted=card is not None,
                    bot_user=self.bot_user,
                    told=self.told_refused,
                )
            raise
        return Delivered(channel, ts, adopted=adopted)

    # notices ----------------------------------------------------------------------
    async def notify(self, entry: OutboxEntry) -> Delivered:
        """An ephemeral note in the card's thread, or the person's DM (``notice_sending``)."""
        return await send_notice(self.client, entry)

    async def show_status(self, entry: OutboxEntry, status: AgentStatus) -> Delivered:
        """The thread's agent session shows ``status`` (``status_sending``)."""
        return await send_status(self.client, entry, status, support=self.support)

    # outside the outbox -----------------------------------------------------------
    async def working(self, *, channel: str, ts: str) -> None:
        """Show that a message was taken: a reaction, best effort."""
        await react_taken(self.client, channel=channel, ts=ts)
