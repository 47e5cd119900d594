"""What a thread shows while a turn runs: a live view, never a record.

The loop tells a ``LiveView`` what it is doing — thinking, running tools, streaming the
text of a reply, waiting for a person, done — and a surface shows it (the Slack bot: the
thread's status line, the agent session with its stop button, a streamed message). None
of it is durable and none of it may fail a turn: what people must get is queued in the
outbox (``loop.say``) like everything else signoff says, and a reply whose text was
streamed is still one ``reply`` entry, which the surface delivers by finalizing the
streamed message (or, if the stream died, by posting it as usual).

``NullLiveView`` (the default) shows nothing: the CLI, tests, a terminal.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from sessions import ThreadKey

from .model import RetryNotice, TextSink

__all__ = [
    "GuardedLiveView",
    "LiveTurn",
    "LiveView",
    "NullLiveView",
    "NullReplyStream",
    "ReplyStream",
    "ToolStep",
]

log = logging.getLogger("signoff.live")

StepStatus = Literal["running", "done", "failed", "waiting"]


@dataclass(frozen=True)
class LiveTurn:
    """The turn a live view is about: a session running in a thread."""

    thread: ThreadKey
    session_id: str
    # Whom the answer is for (Slack addresses a streamed reply to one person).
    requester: str = ""
    # The requester's team, when their message named it: a Slack Connect guest's is their
    # own organization's, not the thread's ("" : the thread's).
    requester_team: str = ""
    # The person's message that started this turn ("" for a decision or a recovery).
    message_ts: str = ""
    # A few words of what was asked, to name the conversation.
    title: str = ""
    # Users the thread knows (who wrote, who decided): only these may be mentioned in
    # the model's text (as in the reply entry's ``mentions``).
    people: tuple[str, ...] = ()


@dataclass(frozen=True)
class ToolStep:
    """One tool call of a model turn, as a step of the reply that asked for it."""

    call_id: str
    tool: str
    status: StepStatus
    detail: str = ""


class ReplyStream(TextSink, Protocol):
    """The live view of one reply: its text as the model writes it, then its tool calls.

    ``close`` says nothing more will be shown (the reply entry may now be finalized with
    it); ``abandon`` says no reply will be queued for it (the model failed, the turn was
    stopped), so whatever was shown must not stay looking like an answer.
    """

    async def steps(self, steps: Sequence[ToolStep]) -> None: ...

    async def close(self) -> None: ...

    async def abandon(self) -> None: ...


class LiveView(Protocol):
    async def working(self, turn: LiveTurn, *, tools: Sequence[str] = ()) -> None:
        """The turn is running: thinking (no ``tools``) or running these tools."""
        ...

    def reply_stream(self, turn: LiveTurn, *, entry_id: str) -> ReplyStream:
        """Where the next model reply streams; ``entry_id`` is the outbox entry its text
        will be queued as."""
        ...

    async def waiting(self, turn: LiveTurn, *, approvals: Sequence[str]) -> None:
        """The session parked: these approvals wait for a person."""
        ...

    async def ended(self, turn: LiveTurn, *, state: str) -> None:
        """The session ended (``state`` as recorded) and nothing more runs now."""
        ...

    async def retrying(self, turn: LiveTurn, notice: RetryNotice) -> None:
        """The model call failed and is tried again after ``notice.delay_s``."""
        ...


class NullReplyStream:
    async def text(self, delta: str) -> None:
        return None

    async def restart(self) -> None:
        return None

    async def steps(self, steps: Sequence[ToolStep]) -> None:
        return None

    async def close(self) -> None:
        return None

    async def abandon(self) -> None:
        return None


class NullLiveView:
    """Shows nothing."""

    async def working(self, turn: LiveTurn, *, tools: Sequence[str] = ()) -> None:
        return None

    def reply_stream(self, turn: LiveTurn, *, entry_id: str) -> ReplyStream:
        return NullReplyStream()

    async def waiting(self, turn: LiveTurn, *, approvals: Sequence[str]) -> None:
        return None

    async def ended(self, turn: LiveTurn, *, state: str) -> None:
        return None

    async def retrying(self, turn: LiveTurn, notice: RetryNotice) -> None:
        return None


async def _quietly(what: str, work: Awaitable[None]) -> None:
    try:
        await work
    except Exception:
        log.exception("the live view failed (%s); the turn goes on", what)


class _GuardedStream:
    def __init__(self, inner: ReplyStream) -> None:
        self.inner = inner

    async def text(self, delta: str) -> None:
        await _quietly("text", self.inner.text(delta))

    async def restart(self) -> None:
        await _quietly("restart", self.inner.restart())

    async def steps(self, steps: Sequence[ToolStep]) -> None:
        await _quietly("steps", self.inner.steps(steps))

    async def close(self) -> None:
        await _quietly("close", self.inner.close())

    async def abandon(self) -> None:
        await _quietly("abandon", self.inner.abandon())


class GuardedLiveView:
    """A live view whose failures are logged, never raised into a turn: what it shows
    is a courtesy, and the turn's records and replies do not depend on it."""

    def __init__(self, inner: LiveView) -> None:
        self.inner = inner

    async def working(self, turn: LiveTurn, *, tools: Sequence[str] = ()) -> None:
        await _quietly("working", self.inner.working(turn, tools=tools))

    def reply_stream(self, turn: LiveTurn, *, entry_id: str) -> ReplyStream:
        try:
            return _GuardedStream(self.inner.reply_stream(turn, entry_id=entry_id))
        except Exception:
            log.exception("the live view failed (reply_stream); the turn goes on")
            return NullReplyStream()

    async def waiting(self, turn: LiveTurn, *, approvals: Sequence[str]) -> None:
        await _quietly("waiting", self.inner.waiting(turn, approvals=approvals))

    async def ended(self, turn: LiveTurn, *, state: str) -> None:
        await _quietly("ended", self.inner.ended(turn, state=state))

    async def retrying(self, turn: LiveTurn, notice: RetryNotice) -> None:
        await _quietly("retrying", self.inner.retrying(turn, notice))
