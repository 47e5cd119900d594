"""One running session: its files, its transcript in memory, and how it ends."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from approvals import ApprovalRequest, ApprovalsError
from sessions import (
    IntentTicket,
    ResultTicket,
    SessionFiles,
    SessionRecord,
    SessionsError,
    SessionState,
    StaleStateError,
    ThreadKey,
    TraceKind,
    off_loop,
)

from .messages import (
    AssistantMessage,
    EventMessage,
    Message,
    ToolResultMessage,
    UserMessage,
    message_adapter,
)
from .observe import SessionStateChanged
from .runtime import Runtime

__all__ = ["SessionRun"]


class SessionRun:
    def __init__(
        self, rt: Runtime, record: SessionRecord, *, transcript: Sequence[Message] | None = None
    ) -> None:
        self.rt = rt
        self.record = record
        self.files = SessionFiles(rt.home.session_dir(record.id), clock=rt.clock)
        # Writes (each waits for its fsync) run off the event loop, so other threads'
        # turns go on meanwhile; one at a time per session keeps the files in order.
        self._writing = asyncio.Lock()
        self.transcript: list[Message] = (
            list(transcript)
            if transcript is not None
            else [message_adapter.validate_python(m) for m in self.files.read_transcript()]
        )

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def thread(self) -> ThreadKey:
        return self.record.thread

    async def append(self, message: Message) -> None:
        """Durably record a message before anything acts on it."""
        record = message.model_dump(mode="json")
        async with self._writing:
            await off_loop(self.files.append_transcript, record)
            self.transcript.append(message)

    async def trace(self, kind: TraceKind, data: dict[str, Any] | None = None) -> None:
        # On the loop: a trace line waits for no fsync (the seal flushes it), and a hop to
        # a disk thread costs more than the write.
        self.files.trace(kind, data)

    async def write_ticket(self, ticket: IntentTicket | ResultTicket) -> None:
        """Record an intent before its call runs, and how it ended after."""
        async with self._writing:
            await off_loop(self.files.write_ticket, ticket)

    @property
    def requester(self) -> str:
        askers = self._authors()
        return askers[0] if askers else ""

    @property
    def requester_team(self) -> str:
        """The requester's team as their message gave it ("" when it did not): a Slack
        Connect guest's own, which a streamed reply to them must name."""
        who = self.requester
        for message in reversed(self.transcript):
            if isinstance(message, UserMessage) and message.user == who:
                return message.user_team
        return ""

    def unanswered_messages(self) -> list[UserMessage]:
        """The people's messages since the model last answered (with text, no calls)."""
        out: list[UserMessage] = []
        for message in reversed(self.transcript):
            if isinstance(message, AssistantMessage) and not message.tool_calls:
                break
            if isinstance(message, UserMessage):
                out.append(message)
        return out[::-1]

    def acted_since_asked(self) -> bool:
        """Has the thread shown anything of the model's since the last message a person
        wrote: words, or a call with a card (its outcome is told there)? A call that ran
        without a card, or was refused before one, shows nothing: after it, an empty
        answer left the person with silence."""
        for message in reversed(self.transcript):
            if isinstance(message, UserMessage):
                return False
            if isinstance(message, EventMessage) or (
                isinstance(message, ToolResultMessage) and message.approval_id
            ):
                return True
            if isinstance(message, AssistantMessage) and message.text.strip():
                return True
        return False

    @property
    def requesters(self) -> tuple[str, ...]:
        """Authors of the messages the model is answering (those since its last reply),
        and the askers of the requests whose outcomes it is answering.

        Two people's messages may be drained into one turn; either may have supplied the
        arguments, so neither may approve the result (four eyes, not two). A turn that a
        decision resumed goes on with what that request's askers asked, whoever wrote in
        the thread meanwhile: taken from the last message alone, the next call of their
        plan was someone else's request, and theirs to approve.
        """
        told: list[str] = []
        for message in reversed(self.transcript):
            if isinstance(message, AssistantMessage) and not message.tool_calls:
                break
            if isinstance(message, ToolResultMessage | EventMessage) and message.approval_id:
                told += self._askers_of(message.approval_id)
        return tuple(dict.fromkeys((*self._authors(), *told)))

    def _askers_of(self, approval_id: str) -> tuple[str, ...]:
        try:
            return ApprovalRequest.open(self.rt.home, approval_id).capsule.askers
        except (SessionsError, ApprovalsError):
            return ()  # unreadable: nobody can decide it, and nothing of it runs

    def _authors(self) -> tuple[str, ...]:
        """Authors of the messages since the model's last reply, oldest first (else the
        last person who wrote)."""
        authors: list[str] = []
        for message in reversed(self.transcript):
            if isinstance(message, AssistantMessage) and not message.tool_calls:
                break
            if isinstance(message, UserMessage) and message.user and message.user not in authors:
                authors.append(message.user)
        if not authors:
            for message in reversed(self.transcript):
                if isinstance(message, UserMessage) and message.user:
                    return (message.user,)
        return tuple(reversed(authors))

    @property
    def request_text(self) -> str:
        """The newest message the model is answering (what an approver sees quoted)."""
        for message in reversed(self.transcript):
            if isinstance(message, AssistantMessage) and not message.tool_calls:
                break
            if isinstance(message, UserMessage) and message.user:
                return message.text
        return ""

    def people(self) -> tuple[str, ...]:
        """Users this thread knows: who wrote in it and who decided its approvals."""
        found = {m.user for m in self.transcript if isinstance(m, UserMessage) and m.user}
        asked = {
            m.approval_id
            for m in self.transcript
            if isinstance(m, ToolResultMessage | EventMessage) and m.approval_id
        }
        for approval_id in asked:
            try:
                decision = ApprovalRequest.open(self.rt.home, approval_id).decision()
            except (SessionsError, ApprovalsError):
                continue
            if decision is not None:
                found.update(decision.deciders)
        return tuple(sorted(found))

    def unresolved_calls(self) -> list[tuple[AssistantMessage, str]]:
        """(assistant message, call id) for every call with no result slot yet, in order."""
        answered = {m.call_id for m in self.transcript if isinstance(m, ToolResultMessage)}
        out: list[tuple[AssistantMessage, str]] = []
        for message in self.transcript:
            if isinstance(message, AssistantMessage):
                out.extend((message, c.id) for c in message.tool_calls if c.id not in answered)
        return out

    def pending_placeholders(self) -> list[ToolResultMessage]:
        """Calls answered "pending approval" whose outcome was not told yet."""
        told = {
            m.approval_id for m in self.transcript if isinstance(m, EventMessage) and m.approval_id
        }
        return [
            m
            for m in self.transcript
            if isinstance(m, ToolResultMessage)
            and m.status == "pending"
            and m.approval_id
            and m.approval_id not in told
        ]

    async def start(self) -> None:
        self.record = await off_loop(
            self.rt.store.transition,
            self.id,
            expected=SessionState.CREATED,
            new=SessionState.RUNNING,
        )
        await self.rt.index.put_session(self.record)
        self.started()

    def started(self) -> None:
        """Say that the session runs (it was created running, or ``start`` moved it)."""
        self._changed()
        self.files.trace(
            "session_started", {"cause": self.record.cause, "parent": self.record.parent_id}
        )

    async def finish(self, state: SessionState, reason: str = "") -> None:
        await self.trace("session_ended", {"state": state.value, "reason": reason})
        self.files.close_trace()
        try:
            self.record = await off_loop(
                self.rt.store.transition,
                self.id,
                expected=SessionState.RUNNING,
                new=state,
                reason=reason,
            )
        except StaleStateError:
            # Another process (recovery) closed it first; the disk wins, never overwrite.
            self.record = self.rt.store.load(self.id)
        await self.rt.index.put_session(self.record)
        self._changed()

    def _changed(self) -> None:
        record = self.record
        self.rt.observer.emit(
            SessionStateChanged(
                session_id=record.id,
                thread=record.thread,
                state=record.state.value,
                reason=record.reason,
            )
        )
