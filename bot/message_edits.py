"""A person's edit or deletion of a message signoff has stored but not read yet.

Slack sends ``message_changed`` and ``message_deleted`` (hidden ``message`` subtypes,
docs.slack.dev/reference/events/message/message_changed) for every message in a channel
signoff is in. They matter only for a message still waiting in its thread's inbox (the
thread busy with a turn, or waiting on its lock): the edit is what the person means now,
and a deleted request must not be carried out. An edit of a channel message that starts
a conversation and no longer mentions signoff withdraws it, as its deletion would: it
was stored only because it asked signoff. After the message was read, both change
nothing (the answer was for the text as it was), and the envelope is acked like any
other. ``sessions/inbox_edits.py`` keeps the change and the worker's read apart.

Slack delivers an event again when it did not hear the ack, late, after the person's next
edit maybe: each edit is dated by its ``edited.ts``, and one older than the edit the
waiting text comes from changes nothing.

Slack keeps no order between events, and delivers one that failed again later: an edit
or a deletion may come before the message itself. Of a message signoff would take (one
that mentions it, any in a direct message with it, a person's reply in a thread it takes
part in, by the rules of ``ingest``), an edit stores the message as edited, and a
deletion (or an edit that no longer asks signoff) records it withdrawn: the message, when
it comes, is a duplicate and never brings back what the person took back. Of one signoff
would not take, both change nothing.

Slack also says ``message_changed`` of a thread's first message when its replies change
(the bot's own replies among them), with the same text: ``unchanged`` or read already.
"""

from __future__ import annotations

import html
import re
from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from sessions import Clock, EditOutcome, InboxMessage, ThreadKey, utc_iso

from .envelopes import Fate, Outcome
from .event_payloads import EditedTs, SharedFile, SharedMessages, TeamOrNone
from .message_text import message_text
from .slack_fields import EventId, EventText, Label, SlackId, SlackTs, describe

__all__ = ["EDITS", "PERSON_SUBTYPES", "SLACKBOT", "EditTarget", "MessageEdits"]

# Slackbot writes as this user, with no bot_id and no subtype (``ingest``): never a request.
SLACKBOT = "USLACKBOT"

EDITS = ("message_changed", "message_deleted")
# A person's message, as ``ingest`` takes it (and may be edited): plain user messages only;
# edits, deletions, joins and bot posts are not requests.
PERSON_SUBTYPES = (None, "thread_broadcast", "file_share")

_SAID: dict[EditOutcome, tuple[Fate, str]] = {
    "revised": (Fate.HANDLED, "edit of a waiting message: its new text is what signoff reads"),
    "withdrawn": (Fate.HANDLED, "a waiting message was withdrawn: it is never answered"),
    "unchanged": (Fate.IGNORED, "an edit that leaves the text as it was"),
    "older": (
        Fate.IGNORED,
        "an edit older than the text the waiting message holds (delivered late): kept the newer",
    ),
    "read_already": (Fate.IGNORED, "an edit or deletion of a message signoff has read already"),
    "unknown": (Fate.IGNORED, "an edit or deletion of a message signoff did not store"),
    "stored_early": (
        Fate.HANDLED,
        "an edit that came before its message: stored as edited, the message its duplicate",
    ),
    "restored": (
        Fate.HANDLED,
        "an edit that asks signoff again after an older one took the mention out: stored",
    ),
    "withdrawn_early": (
        Fate.HANDLED,
        "a message taken back before it came: recorded withdrawn, never answered",
    ),
}


class EditTarget(Protocol):
    """What an edit asks of the engine."""

    async def revise(
        self,
        thread: ThreadKey,
        ts: str,
        *,
        user: str,
        text: str,
        edited: str,
        unstored: InboxMessage | None = None,
    ) -> EditOutcome: ...

    async def withdraw(
        self,
        thread: ThreadKey,
        ts: str,
        *,
        edited: str | None = None,
        before_it_came: bool = False,
    ) -> EditOutcome: ...

    async def withdraw_in_channel(self, team: str, channel: str, ts: str) -> EditOutcome: ...

    def knows_thread(self, thread: ThreadKey) -> bool: ...

    def took_part_by(self, thread: ThreadKey, ts: str) -> bool: ...


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class _Message(_Payload):
    """A message as Slack shows it after the edit, or as it was before the deletion."""

    user: SlackId | None = None
    bot_id: JsonValue = None
    subtype: JsonValue = None
    text: EventText | None = None
    ts: SlackTs | None = None
    thread_ts: SlackTs | None = None
    # When it was last edited: what orders two edits of it (Slack's ``edited.ts``). One
    # that cannot be read is undated, as a message's is (``EditedTs``): an edit or a
    # deletion refused for it would be lost, and a deleted request answered.
    edited: EditedTs = None
    user_team: TeamOrNone = None
    team: TeamOrNone = None
    # An edit may leave only these (a ``file_share`` whose words were taken out).
    files: tuple[SharedFile, ...] = ()
    # Or quote a message (a forward whose comment was taken out).
    attachments: SharedMessages = ()

    def by_a_person(self, bot_user_id: str) -> bool:
        """Written by a person (what signoff may take), not a bot nor Slackbot?"""
        return (
            self.user is not None
            and self.ts is not None
            and self.bot_id is None
            and self.user not in (bot_user_id, SLACKBOT)
            and self.subtype in PERSON_SUBTYPES
        )


class _Changed(_Payload):
    type: Literal["message"]
    subtype: Literal["message_changed"]
    channel: SlackId
    channel_type: Label | None = None
    message: _Message
    previous_message: _Message | None = None


class _Deleted(_Payload):
    type: Literal["message"]
    subtype: Literal["message_deleted"]
    channel: SlackId
    deleted_ts: SlackTs
    previous_message: _Message | None = None
    channel_type: Label | None = None


class _Callback(_Payload):
    type: Literal["event_callback"]
    team_id: SlackId
    event_id: EventId
    event: Annotated[_Changed | _Deleted, Field(discriminator="subtype")]


class MessageEdits:
    def __init__(self, engine: EditTarget, *, bot_user_id: str, clock: Clock) -> None:
        self.engine = engine
        self.bot_user_id = bot_user_id
        self.clock = clock
        # ``<@U…>``, or ``<@U…|name>`` as Slack's text once wrote it (its reference says
        # to expect both): either asks signoff.
        self._mention = re.compile(rf"<@{re.escape(bot_user_id)}(?:\|[^<>]*)?>")

    async def handle(self, payload: JsonValue) -> Outcome:
        """Apply one edit or deletion; an ``OSError`` (the disk, or a worker that holds the
        message for seconds) is the caller's to leave unacked, for Slack to send again."""
        try:
            callback = _Callback.model_validate(payload)
        except ValidationError as exc:
            return Outcome(fate=Fate.DROPPED, reason=f"an edit event: {describe(exc)}")
        event, ref = callback.event, callback.event_id
        team = callback.team_id
        if isinstance(event, _Deleted):
            if event.previous_message is None:  # so its thread is not said either
                where = (team, event.channel, event.deleted_ts)
                return _said(await self.engine.withdraw_in_channel(*where), ref)
            return await self._deletion(team, event, event.previous_message, ref)
        message = event.message
        if message.subtype == "tombstone" and message.ts is not None:
            # A deleted first message that has replies, as Slack leaves it (whoever it names).
            thread = ThreadKey(team=team, channel=event.channel, thread_ts=message.ts)
            return await self._withdrawal(thread, message.ts, ref)
        if message.user is None or message.ts is None or message.bot_id is not None:
            return Outcome(fate=Fate.IGNORED, reason="an edit of a bot's message", ref=ref)
        if message.user == self.bot_user_id:
            return Outcome(fate=Fate.IGNORED, reason="an edit of the bot's own message", ref=ref)
        if message.user == SLACKBOT:
            return Outcome(fate=Fate.IGNORED, reason="an edit of Slackbot's message", ref=ref)
        if message.subtype not in PERSON_SUBTYPES:
            return Outcome(fate=Fate.IGNORED, reason="an edit of another kind of message", ref=ref)
        return await self._edit(team, event, message, user=message.user, ts=message.ts, ref=ref)

    async def _edit(
        self, team: str, event: _Changed, message: _Message, *, user: str, ts: str, ref: str
    ) -> Outcome:
        thread = ThreadKey(team=team, channel=event.channel, thread_ts=message.thread_ts or ts)
        raw = message.text or ""
        text = html.unescape(raw)  # Slack escapes &, < and >, as in a message
        edited = message.edited or ""  # "": undated
        starts = message.thread_ts in (None, ts) and event.channel_type != "im"
        if starts and not self._asks(raw):
            # Stored only because it asked signoff: withdrawn, or never stored at all.
            asked = event.previous_message is not None and self._asks(
                event.previous_message.text or ""
            )
            return await self._withdrawal(thread, ts, ref, edited=edited, early=asked)
        if not self._would_take(thread, event.channel_type, raw, ts=ts, starts=starts):
            return Outcome(fate=Fate.IGNORED, reason="an edit outside signoff's threads", ref=ref)
        if not text.strip() and not message.files and not message.attachments:
            return Outcome(fate=Fate.IGNORED, reason="an edit that leaves no text", ref=ref)
        said = message_text(message.text, message.files, message.attachments)
        unstored = InboxMessage(
            thread=thread,
            ts=ts,
            user=user,
            text=said,
            event_id=ref,
            received_at=utc_iso(self.clock.now()),
            user_team=message.user_team or message.team or "",
            edited_ts=edited,
        )
        outcome = await self.engine.revise(
            thread, ts, user=user, text=said, edited=edited, unstored=unstored
        )
        return _said(outcome, ref)

    def _asks(self, text: str) -> bool:
        """Does Slack's ``text`` (as sent: escaped) mention signoff? Only the markup does:
        the same characters typed arrive as ``&lt;@U…&gt;``, and Slack sends no
        ``app_mention`` for them, so unescaped they would ask where a new message does not."""
        return self._mention.search(text) is not None

    def _would_take(
        self, thread: ThreadKey, channel_type: str | None, text: str, *, ts: str, starts: bool
    ) -> bool:
        """Would ``ingest`` store a person's message ``ts`` saying ``text`` (as sent)? A mention
        anywhere, any message in a direct message with signoff, a reply in a thread it took
        part in when the reply was posted (an older reply, edited once signoff was asked
        there, was never for it)."""
        if self._asks(text) or channel_type == "im":
            return True
        return not starts and self.engine.took_part_by(thread, ts)

    async def _deletion(self, team: str, event: _Deleted, previous: _Message, ref: str) -> Outcome:
        thread = ThreadKey(
            team=team, channel=event.channel, thread_ts=previous.thread_ts or event.deleted_ts
        )
        starts = previous.thread_ts in (None, event.deleted_ts)
        early = previous.by_a_person(self.bot_user_id) and self._would_take(
            thread,
            event.channel_type,
            previous.text or "",
            ts=event.deleted_ts,
            starts=starts,
        )
        return await self._withdrawal(thread, event.deleted_ts, ref, early=early)

    async def _withdrawal(
        self,
        thread: ThreadKey,
        ts: str,
        ref: str,
        *,
        edited: str | None = None,
        early: bool = False,
    ) -> Outcome:
        """``early``: signoff would take the message, so it may still be on its way."""
        if not early and not self.engine.knows_thread(thread):
            return Outcome(
                fate=Fate.IGNORED, reason="an edit or deletion outside signoff's threads", ref=ref
            )
        outcome = await self.engine.withdraw(thread, ts, edited=edited, before_it_came=early)
        return _said(outcome, ref)


def _said(outcome: EditOutcome, ref: str) -> Outcome:
    fate, reason = _SAID[outcome]
    return Outcome(fate=fate, reason=reason, ref=ref)
