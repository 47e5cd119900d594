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

Slack also says ``message_changed`` of a thread's first message when its replies change
(the bot's own replies among them), with the same text: ``unchanged`` or read already.
"""

from __future__ import annotations

import html
from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from sessions import EditOutcome, ThreadKey

from .envelopes import Fate, Outcome
from .slack_fields import EventId, EventText, Label, SlackId, SlackTs, describe

__all__ = ["EDITS", "EditTarget", "MessageEdits"]

EDITS = ("message_changed", "message_deleted")
# What a person's message may be to be edited.
_PLAIN = (None, "thread_broadcast", "file_share")

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
}


class EditTarget(Protocol):
    """What an edit asks of the engine."""

    async def revise(
        self, thread: ThreadKey, ts: str, *, user: str, text: str, edited: str
    ) -> EditOutcome: ...

    async def withdraw(
        self, thread: ThreadKey, ts: str, *, edited: str | None = None
    ) -> EditOutcome: ...

    async def withdraw_in_channel(self, team: str, channel: str, ts: str) -> EditOutcome: ...

    def knows_thread(self, thread: ThreadKey) -> bool: ...


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class _Edited(_Payload):
    user: SlackId | None = None
    ts: SlackTs | None = None


class _Message(_Payload):
    """A message as Slack shows it after the edit, or as it was before the deletion."""

    user: SlackId | None = None
    bot_id: JsonValue = None
    subtype: JsonValue = None
    text: EventText | None = None
    ts: SlackTs | None = None
    thread_ts: SlackTs | None = None
    # When it was last edited: what orders two edits of it (Slack's ``edited.ts``).
    edited: _Edited | None = None


class _Changed(_Payload):
    type: Literal["message"]
    subtype: Literal["message_changed"]
    channel: SlackId
    channel_type: Label | None = None
    message: _Message


class _Deleted(_Payload):
    type: Literal["message"]
    subtype: Literal["message_deleted"]
    channel: SlackId
    deleted_ts: SlackTs
    previous_message: _Message | None = None


class _Callback(_Payload):
    type: Literal["event_callback"]
    team_id: SlackId
    event_id: EventId
    event: Annotated[_Changed | _Deleted, Field(discriminator="subtype")]


class MessageEdits:
    def __init__(self, engine: EditTarget, *, bot_user_id: str) -> None:
        self.engine = engine
        self.bot_user_id = bot_user_id

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
            first = event.previous_message.thread_ts or event.deleted_ts
            return await self._deletion(team, event.channel, first, event.deleted_ts, ref)
        message = event.message
        if message.subtype == "tombstone" and message.ts is not None:
            # A deleted first message that has replies, as Slack leaves it (whoever it names).
            return await self._deletion(team, event.channel, message.ts, message.ts, ref)
        if message.user is None or message.ts is None or message.bot_id is not None:
            return Outcome(fate=Fate.IGNORED, reason="an edit of a bot's message", ref=ref)
        if message.user == self.bot_user_id:
            return Outcome(fate=Fate.IGNORED, reason="an edit of the bot's own message", ref=ref)
        if message.subtype not in _PLAIN:
            return Outcome(fate=Fate.IGNORED, reason="an edit of another kind of message", ref=ref)
        thread = ThreadKey(
            team=team, channel=event.channel, thread_ts=message.thread_ts or message.ts
        )
        if not self.engine.knows_thread(thread):
            return Outcome(fate=Fate.IGNORED, reason="an edit outside signoff's threads", ref=ref)
        text = html.unescape(message.text or "")  # Slack escapes &, < and >, as in a message
        edited = (message.edited.ts if message.edited else None) or ""  # "": undated
        starts = message.thread_ts in (None, message.ts) and event.channel_type != "im"
        if starts and f"<@{self.bot_user_id}>" not in text:
            return _said(await self.engine.withdraw(thread, message.ts, edited=edited), ref)
        if not text.strip():
            return Outcome(fate=Fate.IGNORED, reason="an edit that leaves no text", ref=ref)
        outcome = await self.engine.revise(
            thread, message.ts, user=message.user, text=text, edited=edited
        )
        return _said(outcome, ref)

    async def _deletion(self, team: str, channel: str, first: str, ts: str, ref: str) -> Outcome:
        thread = ThreadKey(team=team, channel=channel, thread_ts=first)
        if not self.engine.knows_thread(thread):
            return Outcome(
                fate=Fate.IGNORED, reason="a deletion outside signoff's threads", ref=ref
            )
        return _said(await self.engine.withdraw(thread, ts), ref)


def _said(outcome: EditOutcome, ref: str) -> Outcome:
    fate, reason = _SAID[outcome]
    return Outcome(fate=fate, reason=reason, ref=ref)
