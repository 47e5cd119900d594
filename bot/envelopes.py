"""What became of a Socket Mode envelope: one outcome, one log line, an ack or not.

Every envelope ends in exactly one of these (counted by kind for metrics):

    stored       a person's message, durable in its thread's inbox
    duplicate    already stored (a redelivery, or a mention's ``message`` twin)
    handled      an interaction or command, handed to its listener
    ignored      well-formed, and not for signoff (another event type, a bot's post, ...)
    dropped      malformed, and nothing shows it was addressed to signoff
    quarantined  addressed to signoff and malformed: kept in $SIGNOFF_HOME/quarantine
    deferred     not acked, so Slack delivers it again: storage failed (a full disk, a
                 permission), or the event's work raised (a Slack lookup it needed
                 failed; see ``socket``)

Only ``deferred`` leaves the envelope unacked; redelivery cannot repair anything else.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import JsonValue, ValidationError

from agent_core.observe import MessageOutcome, MessageStored
from sessions import InvalidIdError, ThreadKey

from .payloads import INTERACTIONS, SlashCommand
from .slack_fields import describe, shown

__all__ = ["Fate", "Outcome", "screen_command", "screen_interaction", "stored_event"]


class Fate(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    HANDLED = "handled"
    IGNORED = "ignored"
    DROPPED = "dropped"
    QUARANTINED = "quarantined"
    DEFERRED = "deferred"


_LEVELS = {
    Fate.STORED: logging.DEBUG,
    Fate.DUPLICATE: logging.DEBUG,
    Fate.HANDLED: logging.DEBUG,
    Fate.IGNORED: logging.DEBUG,
    Fate.DROPPED: logging.WARNING,
    Fate.QUARANTINED: logging.WARNING,
    Fate.DEFERRED: logging.WARNING,
}


@dataclass(frozen=True, kw_only=True)
class Outcome:
    fate: Fate
    reason: str = ""
    # The payload's event id, or the quarantine record's id: for the log line.
    ref: str = ""
    # The quarantine record that keeps it (quarantined only): its sender is told so.
    kept: str = ""
    # Addressed to signoff and unreadable, but not kept (dropped only: the quarantine is
    # full for today, or refused an interaction): its sender is told that too.
    unkept: bool = False
    # An error of signoff's own (a bug) that led here: logged with its traceback.
    error: BaseException | None = None
    # Slack telling the operator why signoff goes quiet (a revoked token, events it
    # dropped): nothing to do with the envelope, but its line is a WARNING.
    alarming: bool = False
    # The thread a stored (or duplicate) event is kept under, for its log line: not
    # always the envelope's ``team_id`` (``event_team``).
    thread: ThreadKey | None = None

    @property
    def acked(self) -> bool:
        return self.fate is not Fate.DEFERRED

    @property
    def level(self) -> int:
        if self.error is not None:
            return logging.ERROR
        return logging.WARNING if self.alarming else _LEVELS[self.fate]

    def line(self, envelope: str) -> str:
        """The one log line for this envelope."""
        ref = f" {self.ref}" if self.ref else ""
        ack = "" if self.acked else "; left unacked for Slack to deliver again"
        reason = f": {self.reason}" if self.reason else ""
        return f"{envelope}{ref} {self.fate.value}{reason}{ack}"


def screen_interaction(payload: JsonValue) -> Outcome | None:
    """None when the payload may go to the listeners; otherwise why not."""
    if not isinstance(payload, dict):
        return Outcome(fate=Fate.DROPPED, reason=f"payload is not an object: {shown(payload)}")
    kind = payload.get("type")
    model = INTERACTIONS.get(kind) if isinstance(kind, str) else None
    if model is None:
        fate = Fate.IGNORED if isinstance(kind, str) else Fate.DROPPED
        return Outcome(fate=fate, reason=f"not an interaction signoff handles: {shown(kind)}")
    try:
        model.model_validate(payload)
    except ValidationError as exc:
        return Outcome(fate=Fate.QUARANTINED, reason=f"{kind}: {describe(exc)}")
    return None


def screen_command(payload: JsonValue) -> Outcome | None:
    if not isinstance(payload, dict):
        return Outcome(fate=Fate.DROPPED, reason=f"payload is not an object: {shown(payload)}")
    try:
        SlashCommand.model_validate(payload)
    except ValidationError as exc:
        return Outcome(fate=Fate.QUARANTINED, reason=f"slash command: {describe(exc)}")
    return None


_EVENT_TYPES = {"app_mention", "message"}
_OUTCOMES: dict[Fate, MessageOutcome] = {
    Fate.STORED: "stored",
    Fate.DUPLICATE: "duplicate",
    Fate.IGNORED: "ignored",
    Fate.QUARANTINED: "quarantined",
    Fate.HANDLED: "handled",
    Fate.DROPPED: "dropped",
    Fate.DEFERRED: "deferred",
}


def stored_event(payload: Any, outcome: Outcome) -> MessageStored:
    """What ``EventIngest.handle`` decided, as an event for logs and metrics."""
    verdict = _OUTCOMES[outcome.fate]
    body = payload if isinstance(payload, dict) else {}
    event = body.get("event")
    event = event if isinstance(event, dict) else {}
    event_type = str(event.get("type", ""))
    thread = outcome.thread
    if thread is None and verdict in ("stored", "duplicate"):
        try:
            thread = ThreadKey(
                team=str(body.get("team_id", "")),
                channel=str(event.get("channel", "")),
                thread_ts=str(event.get("thread_ts") or event.get("ts", "")),
            )
        except (InvalidIdError, ValidationError):
            thread = None
    return MessageStored(
        thread=thread,
        event_type=event_type if event_type in _EVENT_TYPES else "other",
        outcome=verdict,
        reason=outcome.reason if verdict != "stored" else "",
        event_id=str(body.get("event_id", ""))[:40],
    )
