"""What happened, as values: the hook operators' logs and metrics hang on.

The engine and the bot describe each thing an operator cares about as a frozen event and
hand it to an ``Observer``. They never import a metrics library or configure logging: the
bot decides what observes (``bot/metrics.py`` counts, ``bot/event_log.py`` writes JSON
lines), tests pass a list, and the default is ``NullObserver``.

An observer must never disturb the work it watches: ``emit`` is synchronous, cheap and
returns nothing, and ``guarded`` wraps observers so that one that raises is logged and
forgotten for that event, never propagated into a turn.

Events carry ids, counts and outcomes, never message text, tokens or keys: what people and
models write stays in the session directories.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Protocol, TypeAlias

from sessions import ThreadKey

from .observe_model import ModelCall, ModelRetried

__all__ = [
    "ApiOutcome",
    "ApprovalExpired",
    "ApprovalRequested",
    "CallsOverCap",
    "CardPosted",
    "CardUpdated",
    "DecisionRecorded",
    "EnvelopeAcked",
    "Event",
    "MessageOutcome",
    "MessageStored",
    "ModelCall",
    "ModelRetried",
    "NullObserver",
    "Observer",
    "OutboxDepth",
    "RecordingObserver",
    "ReplyPosted",
    "SessionStateChanged",
    "SlackApiCall",
    "SocketLinkChanged",
    "ToolExecuted",
    "VoteRecorded",
    "guarded",
]

log = logging.getLogger("signoff.observe")

# ``ignored``: not for signoff (another thread's chatter, a bot's post); ``dropped``: for
# signoff but unusable (malformed); ``quarantined``: kept aside for a person to look at;
# ``handled``: an event that is no message (``app_home_opened``), acted on at once;
# ``deferred``: not stored now (storage failed) and left unacked, for Slack to deliver
# again.
MessageOutcome: TypeAlias = Literal[
    "stored", "duplicate", "ignored", "dropped", "quarantined", "handled", "deferred"
]
ApiOutcome: TypeAlias = Literal["ok", "error", "ratelimited"]


@dataclass(frozen=True, kw_only=True)
class MessageStored:
    """An ``events_api`` envelope was handled: stored in a thread inbox, or why not.

    ``thread`` is None when the payload was too malformed to name one."""

    thread: ThreadKey | None
    event_type: str
    outcome: MessageOutcome
    reason: str = ""
    event_id: str = ""


@dataclass(frozen=True, kw_only=True)
class EnvelopeAcked:
    """A Socket Mode envelope was acked, ``seconds`` after it arrived."""

    envelope_type: str
    seconds: float


@dataclass(frozen=True, kw_only=True)
class SocketLinkChanged:
    """The Socket Mode link came up (a ``hello``) or went down (close, drop, stop); or,
    ``handover``, Slack is replacing it (a routine refresh): the next link is being opened
    while this one still delivers, so it is still ``up``."""

    up: bool
    reason: str = ""
    handover: bool = False


@dataclass(frozen=True, kw_only=True)
class ApprovalRequested:
    """A gated call was stored as a capsule and its session parked."""

    approval_id: str
    session_id: str
    thread: ThreadKey
    tool: str
    requester: str


@dataclass(frozen=True, kw_only=True)
class CardPosted:
    """The approval card reached Slack (``channel``/``ts`` of the card message)."""

    approval_id: str
    session_id: str
    thread: ThreadKey
    tool: str
    ts: str = ""


@dataclass(frozen=True, kw_only=True)
class CardUpdated:
    """A posted card was redrawn to show a vote, a decision or how the call ran.

    Delivery sends every card wherever the change was made (the bot, the CLI, the sweep),
    so this is the one event that sees every change to a request."""

    approval_id: str
    session_id: str
    thread: ThreadKey
    tool: str
    version: str


@dataclass(frozen=True, kw_only=True)
class DecisionRecorded:
    """A person's decision became final (quorum reached, or a denial)."""

    approval_id: str
    session_id: str
    thread: ThreadKey
    tool: str
    user: str
    verdict: Literal["approved", "denied"]
    wait_seconds: float


@dataclass(frozen=True, kw_only=True)
class VoteRecorded:
    """An approval that does not decide yet was counted (an edit counts as its author's)."""

    approval_id: str
    session_id: str
    thread: ThreadKey
    tool: str
    user: str


@dataclass(frozen=True, kw_only=True)
class ApprovalExpired:
    """Nobody decided in time: the sweep (or recovery) expired the request."""

    approval_id: str
    session_id: str
    thread: ThreadKey
    tool: str
    wait_seconds: float


@dataclass(frozen=True, kw_only=True)
class ToolExecuted:
    """A tool call finished; ``approval_id`` is set for an approved (gated) call.

    ``outcome`` is the result's status (``ok``, ``error``, ``uncertain``, …)."""

    tool: str
    outcome: str
    ms: float
    session_id: str
    thread: ThreadKey
    approval_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class CallsOverCap:
    """A model reply asked for more tool calls than one reply may make (``cap``): these,
    the calls after the first ``cap``, never ran and asked nobody. ``tools`` names each in
    the reply's order (``unknown`` for a name no tool has: a metric's labels stay bounded)."""

    tools: tuple[str, ...]
    cap: int
    session_id: str
    thread: ThreadKey


@dataclass(frozen=True, kw_only=True)
class ReplyPosted:
    """The model's answer reached the thread (``parts`` messages after splitting)."""

    session_id: str
    thread: ThreadKey
    parts: int = 1


@dataclass(frozen=True, kw_only=True)
class SlackApiCall:
    """One HTTP attempt at a Slack Web API method (a retried call counts each attempt).

    ``error`` is Slack's error code (``channel_not_found``) or the exception's type name;
    ``channel``, ``thread_ts`` and a message's ``ts``: what the call named, if anything."""

    method: str
    outcome: ApiOutcome
    error: str = ""
    channel: str = ""
    thread_ts: str = ""
    ts: str = ""


@dataclass(frozen=True, kw_only=True)
class SessionStateChanged:
    """A session moved forward (``created`` → ``running`` → ``completed`` …)."""

    session_id: str
    thread: ThreadKey
    state: str
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class OutboxDepth:
    """How many Slack writes wait in the outbox."""

    depth: int


Event: TypeAlias = (
    MessageStored
    | EnvelopeAcked
    | SocketLinkChanged
    | ApprovalRequested
    | CardPosted
    | CardUpdated
    | DecisionRecorded
    | VoteRecorded
    | ApprovalExpired
    | ToolExecuted
    | CallsOverCap
    | ReplyPosted
    | SlackApiCall
    | ModelCall
    | ModelRetried
    | SessionStateChanged
    | OutboxDepth
)


class Observer(Protocol):
    def emit(self, event: Event) -> None: ...


class NullObserver:
    """Observes nothing: the engine's default."""

    def emit(self, event: Event) -> None:
        return None


class RecordingObserver:
    """Keeps every event in order (tests, benchmarks)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)


class _Guarded:
    def __init__(self, observers: tuple[Observer, ...]) -> None:
        self.observers = observers

    def emit(self, event: Event) -> None:
        for observer in self.observers:
            try:
                observer.emit(event)
            except Exception:
                # An observer's bug costs a metric or a log line, never a turn.
                log.exception(
                    "observer %s failed on %s", type(observer).__name__, type(event).__name__
                )


def guarded(observers: Iterable[Observer]) -> Observer:
    """One observer that hands each event to every one of ``observers`` and never raises."""
    return _Guarded(tuple(observers))
