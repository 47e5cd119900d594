"""A turn's model call, started before the turn's records are written.

Under a burst, every thread's turn wrote its session, HEAD and messages before it asked
the model, and those writes queued behind each other's: the first model call came up to
0.7 s after its message was stored. The call needs nothing that is not durable already
(the parent's transcript, the messages in the inbox) and has no effect of its own, so it
starts as soon as the worker has read them, while the writes go on. Its reply is used
only once they are done, and only if the session's transcript then is exactly what was
sent (and the tools are the same); otherwise it is cancelled and the model is asked
again. Its text waits in a ``HeldSink`` until the turn's reply stream exists.

It is not started when the turn has more to do than answer messages (a session to
continue, calls to settle first): those turns ask the model the usual way; nor when a
person's stop applies to the messages (the turn ends without asking the model).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from sessions import InboxMessage, SessionFiles, SessionRecord, SessionsError, ThreadKey

from .budgets import CostFunction
from .messages import AssistantMessage, Message, UserMessage, message_adapter
from .model import (
    ModelReply,
    RetryListener,
    RetryNotice,
    TextSink,
    ToolSpec,
    complete_streaming,
    provider_of,
)
from .observe import ModelCall
from .retry_trace import RetryLog, retries_seen
from .runtime import Runtime
from .stops import active_stop

__all__ = ["EarlyCall", "HeldSink", "start_early_call", "with_messages"]


class HeldSink:
    """A ``TextSink`` that keeps the text until ``attach`` hands it (and what follows) on."""

    def __init__(self) -> None:
        self._held: list[str] = []
        self._retry: RetryNotice | None = None  # the last, while no text came after it
        self._sink: TextSink | None = None
        self._order = asyncio.Lock()  # attach's replay and new text never interleave

    async def text(self, delta: str) -> None:
        async with self._order:
            if self._sink is None:
                self._held.append(delta)
                self._retry = None
            else:
                await self._sink.text(delta)

    async def restart(self) -> None:
        async with self._order:
            if self._sink is None:
                self._held.clear()
            else:
                await self._sink.restart()

    async def retrying(self, notice: RetryNotice) -> None:
        async with self._order:
            if self._sink is None:
                self._retry = notice
            elif isinstance(self._sink, RetryListener):
                await self._sink.retrying(notice)

    async def attach(self, sink: TextSink) -> None:
        async with self._order:
            self._sink = sink
            held, self._held = self._held, []
            retry, self._retry = self._retry, None
            if retry is not None and isinstance(sink, RetryListener):
                await sink.retrying(retry)
            for delta in held:
                await sink.text(delta)


def with_messages(transcript: Sequence[Message], pending: Sequence[InboxMessage]) -> list[Message]:
    """``transcript`` and then the pending messages it does not hold yet (by ``ts``)."""
    recorded = {m.ts for m in transcript if isinstance(m, UserMessage)}
    return [
        *transcript,
        *(
            UserMessage(text=m.text, user=m.user, ts=m.ts, user_team=m.user_team)
            for m in pending
            if m.ts not in recorded
        ),
    ]


@dataclass
class EarlyCall:
    transcript: list[Message]  # the parent's, which a new child session starts from
    messages: list[Message]
    tools: Sequence[ToolSpec]
    task: asyncio.Task[ModelReply]
    sink: HeldSink
    model: str = ""  # the model's name, and what its tokens cost, for the let-go call
    cost: CostFunction | None = None
    used: bool = False
    session_id: str = ""  # the turn's session, once it exists: a let-go call is billed to it
    thread: ThreadKey | None = None  # whose messages it answers (for its log line)
    # Its retries, held for the trace of the session that takes it.
    retries: RetryLog = field(default_factory=lambda: RetryLog(""))

    def fits(self, messages: Sequence[Message], tools: Sequence[ToolSpec]) -> bool:
        """Was it asked exactly what the turn would ask now?"""
        return list(messages) == self.messages and list(tools) == list(self.tools)

    async def take(self, sink: TextSink) -> asyncio.Task[ModelReply]:
        """Use it: the text it has streamed so far, and what follows, go to ``sink``."""
        await self.sink.attach(sink)
        self.used = True  # after: a turn cut while the held text goes out has not used it
        return self.task

    def cancel(self) -> None:
        """Let it go (a no-op once its reply was used)."""
        self.task.cancel()

    async def close(self) -> ModelCall | None:
        """Let it go and wait until it has (so nothing of it outlives the turn: the engine
        closes the model's connections after the last turn). Unless the turn used it, what
        the call came to, for the metrics: it was made, and an answer is paid for."""
        self.task.cancel()
        await asyncio.wait({self.task})
        if self.used:
            return None
        provider = provider_of(self.model)
        if self.task.cancelled():
            return ModelCall(
                provider=provider,
                outcome="cancelled",
                session_id=self.session_id,
                thread=self.thread,
            )
        failed = self.task.exception()
        if failed is not None:
            return ModelCall(
                provider=provider,
                outcome="error",
                error=type(failed).__name__,
                session_id=self.session_id,
                thread=self.thread,
            )
        reply = self.task.result()
        usage = reply.usage
        usd = (self.cost(reply.model or self.model, usage) or 0.0) if self.cost else 0.0
        return ModelCall.answered(
            provider=provider,
            outcome="discarded",
            usage=usage,
            usd=usd,
            session_id=self.session_id,
            thread=self.thread,
            usage_reported=not reply.usage_missing,
        )


def _transcript(rt: Runtime, head: SessionRecord) -> list[Message] | None:
    try:
        records = SessionFiles(rt.home.session_dir(head.id), clock=rt.clock).read_transcript()
    except SessionsError:
        return None  # the turn reads it again and says what is wrong
    return [message_adapter.validate_python(r) for r in records]


def start_early_call(
    rt: Runtime, head: SessionRecord | None, cause: str, pending: Sequence[InboxMessage]
) -> EarlyCall | None:
    """The model call of a turn that only answers ``pending``, started now; else None."""
    if cause != "message" or not pending or rt.killed():
        return None
    if head is not None and not head.terminal:
        return None  # a session to continue: its calls and answers come first
    transcript = _transcript(rt, head) if head is not None else []
    if transcript is None:
        return None
    last = transcript[-1] if transcript else None
    if isinstance(last, AssistantMessage) and last.tool_calls:
        return None  # calls to settle before the new messages
    messages = with_messages(transcript, pending)
    if active_stop(rt, pending[0].thread, messages) is not None:
        return None  # the turn ends stopped before its first model call
    tools = rt.registry.specs()
    sink = HeldSink()
    retries = RetryLog(provider_of(rt.model.name))
    task = asyncio.ensure_future(
        complete_streaming(
            rt.model,
            system=rt.system_prompt,
            messages=messages,
            tools=tools,
            sink=sink,
            on_retry=retries_seen(rt, retries),
        )
    )
    task.add_done_callback(_retrieved)
    return EarlyCall(
        transcript=transcript,
        messages=messages,
        tools=tools,
        task=task,
        sink=sink,
        model=rt.model.name,
        cost=rt.cost,
        retries=retries,
        thread=pending[0].thread,
    )


def _retrieved(task: asyncio.Task[ModelReply]) -> None:
    # A call let go may fail or be cancelled unseen: that is not an error of the turn.
    if not task.cancelled():
        task.exception()
