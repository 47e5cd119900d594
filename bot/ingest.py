"""Events → the thread inbox (design flow 1), and only then the ack.

The socket handler calls ``EventIngest.handle`` for every ``events_api`` envelope and
acks unless the outcome is ``deferred``. The event is judged in three steps:

1. Is it for signoff? An edit or deletion of a message goes to ``message_edits`` (it
   matters only while the message waits to be read). Other event types, bots' and
   Slackbot's posts and ``message`` events outside signoff's threads are ``ignored``; a payload too broken to
   tell is ``dropped``. In a direct message with signoff every message is for it (no mention
   needed): each one outside a thread starts a conversation, threaded under it, exactly
   like a mention in a channel. ``app_home_opened`` for the Home tab and
   ``subteam_members_changed`` (an approver group's members) are ``handled`` at once
   (``handled_events``): that person's Home is published (``on_home_opened``); the group's
   cached members are forgotten and the Homes of those who joined or left it redrawn
   (``on_group_changed``).
2. Is every field it stores valid (``event_payloads.EventCallback``)? If not, the
   envelope can never be stored, so it is acked and its payload ``quarantined`` for a
   person.
3. Store it. Only a failing disk (``OSError``) leaves it unacked, for Slack to deliver
   again.

Dedupe is twofold: a short in-memory window of event ids answers fast, and the inbox's
file names (the message ``ts``) make the durable decision, which also folds a mention's
``message`` and ``app_mention`` twins into one. A message that can never be stored is
quarantined once: its redelivery or twin, even to the next process, is a ``duplicate`` of
that record (``kept_events``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from pydantic import JsonValue, ValidationError

from agent_core.recent_keys import RecentKeys
from sessions import Clock, Home, InboxMessage, Quarantine, ThreadKey, check_slack_ts, utc_iso

from .envelopes import Fate, Outcome
from .event_payloads import EventCallback, EventEnvelope, EventHead, MessageEvent
from .event_team import keyed_by_installation
from .handled_events import HANDLED, GroupChangedHook, HomeOpenedHook, Malformed, handle_event
from .kept_events import EventKeeper
from .message_edits import EDITS, PERSON_SUBTYPES, SLACKBOT, EditTarget, MessageEdits
from .message_text import message_text
from .slack_fields import describe, shown

__all__ = ["EventIngest", "IngestTarget"]

log = logging.getLogger("signoff.ingest")

_EVENT_ID = re.compile(r"[A-Za-z0-9]{1,64}")

Taken = Callable[[MessageEvent], Awaitable[None]]
# Slack saying the app lost its tokens, its installation or a minute of events: nothing
# to store, but an operator must read why signoff went quiet. app_rate_limited comes
# unasked (docs.slack.dev/reference/events/app_rate_limited); the others if subscribed.
_ALARMS = {
    "tokens_revoked": "Slack revoked the app's tokens; reinstall it for a new SLACK_BOT_TOKEN",
    "app_uninstalled": "the app was uninstalled from this workspace",
    "app_rate_limited": "Slack drops the app's events for this minute (over 30,000 an hour)",
}


class IngestTarget(EditTarget, Protocol):
    """What ingest asks of the engine."""

    async def ingest(self, message: InboxMessage) -> bool: ...


def _edit(payload: JsonValue) -> bool:
    """An edit or a deletion of a message (``message_edits``)."""
    event = payload.get("event") if isinstance(payload, dict) else None
    return (
        isinstance(event, dict) and event.get("type") == "message" and event.get("subtype") in EDITS
    )


def _ref(event_id: object) -> str:
    if isinstance(event_id, str) and _EVENT_ID.fullmatch(event_id):
        return event_id
    return f"(event id {shown(event_id, 40)})"


def _ignored(why: str, *, kind: str, ref: str = "") -> Outcome:
    alarm = _ALARMS.get(kind)
    reason = f"{why}: {alarm}" if alarm else why
    return Outcome(fate=Fate.IGNORED, reason=reason, ref=ref, alarming=alarm is not None)


class EventIngest:
    def __init__(
        self,
        engine: IngestTarget,
        *,
        home: Home,
        clock: Clock,
        bot_user_id: str,
        bot_id: str,
        on_taken: Taken | None = None,
        on_home_opened: HomeOpenedHook | None = None,
        on_group_changed: GroupChangedHook | None = None,
        window: int = 10_000,
        quarantine: Quarantine | None = None,
    ) -> None:
        self.engine = engine
        self.home = home
        self.clock = clock
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.on_taken = on_taken
        self.on_home_opened = on_home_opened
        self.on_group_changed = on_group_changed
        self.quarantine = quarantine or Quarantine(home, clock=clock)
        self._recent: RecentKeys[str] = RecentKeys(window)  # event ids stored or found stored
        # What could never be stored is kept once: a redelivery, a twin, after a restart.
        self.keeper = EventKeeper(self.quarantine)
        self.edits = MessageEdits(engine, bot_user_id=bot_user_id, clock=clock)
        self._background: set[asyncio.Task[Any]] = set()

    def _spawn(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            # Best effort (a reaction, the fast dedupe row): the message itself is stored.
            log.warning("after storing an event: %s: %s", type(exc).__name__, exc)

    async def handle(self, payload: JsonValue) -> Outcome:
        """Judge and store one ``events_api`` payload; the outcome says whether to ack."""
        # Read under the team its thread is kept under; quarantined as Slack sent it.
        keyed = keyed_by_installation(payload, knows=self.engine.knows_thread)
        if _edit(keyed):
            try:
                return await self.edits.handle(keyed)
            except OSError as exc:  # the disk, or a message held for seconds: sent again
                return Outcome(fate=Fate.DEFERRED, reason=f"could not apply an edit: {exc}")
            except Exception as exc:  # a damaged message file, or a bug of ours: said loudly
                reason = f"could not apply an edit: {type(exc).__name__}: {shown(str(exc), 200)}"
                return Outcome(fate=Fate.DROPPED, reason=reason, error=exc)
        judged = self._for_signoff(keyed)
        if isinstance(judged, Outcome):
            return judged
        ref = _ref(judged.event_id)
        if judged.event.type in HANDLED:
            acted = handle_event(
                payload,
                kind=judged.event.type,
                ref=ref,
                on_home_opened=self.on_home_opened,
                on_group_changed=self.on_group_changed,
            )
            if isinstance(acted, Malformed):
                return await self._quarantine(payload, acted.why, ref=ref)
            return acted
        try:
            callback = EventCallback.model_validate(keyed)
        except ValidationError as exc:
            return await self._quarantine(payload, describe(exc), ref=ref)
        try:
            return await self._store(callback)
        except OSError as exc:
            # The disk, not the payload: Slack's redelivery is the retry.
            return Outcome(fate=Fate.DEFERRED, reason=f"could not store: {exc}", ref=ref)
        except Exception as exc:  # a bug of ours: keep the payload, say so loudly
            reason = f"could not store: {type(exc).__name__}: {shown(str(exc), 200)}"
            outcome = await self._quarantine(payload, reason, ref=ref)
            return dataclasses.replace(outcome, error=exc)

    def _for_signoff(self, payload: JsonValue) -> EventEnvelope | Outcome:
        """The envelope when it is addressed to signoff; otherwise why it is not taken."""
        try:
            envelope = EventEnvelope.model_validate(payload)
        except ValidationError as exc:
            kind = payload.get("type") if isinstance(payload, dict) else None
            if isinstance(kind, str) and kind != "event_callback":
                return _ignored(f"not an event_callback: {shown(kind)}", kind=kind)
            return Outcome(fate=Fate.DROPPED, reason=describe(exc))
        ref = _ref(envelope.event_id)
        why = self._ignored(envelope.event)
        if why:
            return _ignored(why, kind=envelope.event.type, ref=ref)
        if envelope.event.type == "message" and envelope.event.channel_type != "im":
            # Plain messages are for signoff only in threads it takes part in (in a
            # direct message with signoff, every message is).
            thread = self._thread_of(envelope)
            if thread is None:
                return Outcome(
                    fate=Fate.DROPPED, reason="message without a valid team, channel or ts", ref=ref
                )
            if not self._took_part(thread, envelope.event.ts):
                return Outcome(
                    fate=Fate.IGNORED, reason="not a thread signoff takes part in", ref=ref
                )
        return envelope

    def _ignored(self, event: EventHead) -> str:
        if event.type in HANDLED:
            return ""
        if event.type not in ("app_mention", "message"):
            return f"event type {shown(event.type)}"
        if event.subtype not in PERSON_SUBTYPES:
            return f"message subtype {shown(event.subtype)}"
        # Slackbot: a notice in signoff's direct messages ("You have been removed from #ops
        # by @carol"), a /remind's text in a channel (mention included). No person asked: a
        # request from it has no requester.
        if event.user == SLACKBOT:
            return "Slackbot's message"
        if event.bot_id or event.user == self.bot_user_id:
            mine = event.bot_id == self.bot_id or event.user == self.bot_user_id
            return "the bot's own message" if mine else "another bot's message"
        return ""

    def _took_part(self, thread: ThreadKey, ts: JsonValue) -> bool:
        """Did signoff take part in ``thread`` when the message ``ts`` was posted? A reply
        from before it was asked there (delivered late) asked it nothing, as its edit
        would not (``MessageEdits``). A ts that cannot be read is judged by the thread
        alone, and refused later as malformed."""
        try:
            return self.engine.took_part_by(thread, check_slack_ts(ts))
        except ValueError:
            return self.engine.knows_thread(thread)

    @staticmethod
    def _thread_of(envelope: EventEnvelope) -> ThreadKey | None:
        event = envelope.event
        try:
            return ThreadKey.model_validate(
                {
                    "team": envelope.team_id,
                    "channel": event.channel,
                    "thread_ts": event.thread_ts or event.ts,
                }
            )
        except ValidationError:
            return None

    async def _quarantine(self, payload: JsonValue, reason: str, *, ref: str) -> Outcome:
        return await self.keeper.keep(payload, reason, ref=ref)

    async def _store(self, callback: EventCallback) -> Outcome:
        event, event_id = callback.event, callback.event_id
        thread = ThreadKey(
            team=callback.team_id, channel=event.channel, thread_ts=event.thread_ts or event.ts
        )
        if event_id in self._recent:
            return Outcome(fate=Fate.DUPLICATE, reason="event id seen", ref=event_id, thread=thread)
        message = InboxMessage(
            thread=thread,
            ts=event.ts,
            user=event.user,
            text=message_text(event.text, event.files, event.attachments),
            event_id=event_id,
            received_at=utc_iso(self.clock.now()),
            user_team=event.user_team or event.team or "",
            edited_ts=event.edited or "",
        )
        # A redelivery while the first copy is still being written waits for it there
        # (unacked until it is durable), like a mention's twin.
        fresh = await self.engine.ingest(message)
        # Only a stored message makes its event id a duplicate.
        self._recent.add(event_id)
        if not fresh:
            why = "message already stored"
            return Outcome(fate=Fate.DUPLICATE, reason=why, ref=event_id, thread=thread)
        if self.on_taken is not None:
            self._spawn(self.on_taken(event))
        return Outcome(fate=Fate.STORED, ref=event_id, thread=thread)

    async def drain(self, *, within: float) -> None:
        """Wait up to ``within`` seconds for background work (reactions) to finish, then
        cancel what is left: each is a courtesy to a message already stored, and a Slack
        that does not answer must not hold a stop for its client's whole timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while self._background and (left := deadline - loop.time()) > 0:
            await asyncio.wait(set(self._background), timeout=left)
        left_over = list(self._background)
        for task in left_over:
            task.cancel()
        await asyncio.gather(*left_over, return_exceptions=True)
