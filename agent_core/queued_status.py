"""The live view of a process that shows nothing itself (a command in a terminal).

When a turn parks or ends there, the thread's agent session in Slack would keep showing
what the bot last set (``suspended`` after a decision from a terminal, for ever). So this
view queues a ``status`` entry instead; whoever delivers the outbox (the bot) sets the
status Slack shows, rendered from disk when it is sent (``thread_status``), after the
thread's replies queued before it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sessions import Clock, Outbox, OutboxEntry, OutboxStore, ThreadKey, utc_iso

from .live import LiveTurn, NullLiveView

__all__ = ["QueuedStatusView", "status_entry"]


def status_entry(thread: ThreadKey, *, key: str, clock: Clock) -> OutboxEntry:
    """The outbox entry that sets ``thread``'s agent session to what its records say when
    it is sent; ``key`` names it (one entry per session and event, so a repeat is one)."""
    return OutboxEntry(
        id=f"status-{key}",
        kind="status",
        thread=thread,
        created_at=utc_iso(clock.now()),
        seq=Outbox.next_seq(),
    )


class QueuedStatusView(NullLiveView):
    def __init__(self, outbox: OutboxStore, *, clock: Clock) -> None:
        self.outbox = outbox
        self.clock = clock

    async def waiting(self, turn: LiveTurn, *, approvals: Sequence[str]) -> None:
        self._queue(turn, "waiting")

    async def ended(self, turn: LiveTurn, *, state: str) -> None:
        self._queue(turn, "ended")

    def _queue(self, turn: LiveTurn, event: str) -> None:
        key = f"{turn.session_id}-{event}"
        self.outbox.enqueue(status_entry(turn.thread, key=key, clock=self.clock))
