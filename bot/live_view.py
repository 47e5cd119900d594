"""The live view of a turn on Slack (``agent_core.live.LiveView``).

A bot mentioned in channels shows what it is doing with two of Slack's AI surfaces:

- the thread's status line (``status_line``): "signoff is thinking…", "…is running
  restart_service…", "…is waiting for approval", cleared when the session ends (and set
  again after a card is posted, which clears it, while the thread waits);
- the thread's agent session (``agent_sessions``): ``processing`` while a turn runs, which
  gives people the stop button, ``suspended`` while an approval waits, ``active`` when the
  turn is over;

and streams the model's replies (``live_streams``). This module says which of them shows
what, when the loop says what it does. Each call is best effort, in the background, in
order per thread (``Lanes``); a surface the workspace lacks is switched off once
(``surface_support``): without the status line the 👀 reaction marks the message taken.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from slack_sdk.web.async_client import AsyncWebClient

from agent_core.live import LiveTurn, ReplyStream
from agent_core.model import RetryNotice
from sessions import ThreadKey

from .agent_sessions import AgentSessions, Requeue
from .lanes import Lanes
from .live_streams import LiveStreams
from .status_line import StatusLine
from .status_texts import THINKING, WAITING, retry_status, running
from .surface_support import SurfaceSupport

__all__ = ["SlackLiveView"]

React = Callable[[str, str], Awaitable[None]]
_MAX_WAITING = 1024


class SlackLiveView:
    def __init__(
        self,
        client: AsyncWebClient,
        *,
        streams: LiveStreams,
        support: SurfaceSupport,
        react: React,
    ) -> None:
        self.client = client
        self.streams = streams
        self.support = support
        self.react = react
        self.lanes = Lanes(streams.spawn)
        self.line = StatusLine(client, support=support, lanes=self.lanes)
        self.sessions = AgentSessions(client, support=support, lanes=self.lanes, streams=streams)
        # Parked threads whose cards are still to be posted (each post clears the status).
        self.waiting_cards: dict[ThreadKey, int] = {}
        streams.posts.watch(self._posted)

    @property
    def requeue(self) -> Requeue | None:
        return self.sessions.requeue

    @requeue.setter
    def requeue(self, requeue: Requeue | None) -> None:
        """Bound once the engine is open: see ``AgentSessions``."""
        self.sessions.requeue = requeue

    # the LiveView protocol ----------------------------------------------------------------
    async def working(self, turn: LiveTurn, *, tools: Sequence[str] = ()) -> None:
        self.waiting_cards.pop(turn.thread, None)
        self.sessions.remember(turn.thread, "processing")
        self.line.cancel_clear(turn.thread)
        text = running(tools) if tools else THINKING
        self.lanes.add(turn.thread, lambda: self._working(turn, text))
        if self.line.offered:
            self.line.keep_step(turn.thread, text)

    def reply_stream(self, turn: LiveTurn, *, entry_id: str) -> ReplyStream:
        stream: ReplyStream = self.streams.open(turn, entry_id=entry_id, people=turn.people)
        return stream

    async def waiting(self, turn: LiveTurn, *, approvals: Sequence[str]) -> None:
        self.line.cancel_clear(turn.thread)
        self.line.cancel_keep(turn.thread)  # an approval waits for days: its session says so
        self.waiting_cards[turn.thread] = len(approvals)
        while len(self.waiting_cards) > _MAX_WAITING:  # cards posted before this: nothing to redo
            del self.waiting_cards[next(iter(self.waiting_cards))]
        self.sessions.remember(turn.thread, "suspended")
        self.lanes.add(turn.thread, lambda: self._waiting(turn))

    async def ended(self, turn: LiveTurn, *, state: str) -> None:
        self.line.cancel_keep(turn.thread)
        self.waiting_cards.pop(turn.thread, None)
        self.sessions.forget(turn.thread)
        self.lanes.add(turn.thread, lambda: self.sessions.set_for_turn(turn, "active"))
        if self.line.offered:
            self.line.clear_later(turn.thread)

    async def retrying(self, turn: LiveTurn, notice: RetryNotice) -> None:
        if self.line.offered:  # a reaction says "working" already
            self.line.cancel_keep(turn.thread)  # its line says why it waits, until the next step
            self.line.show(turn.thread, retry_status(notice))

    def show_recorded(
        self,
        threads: Sequence[ThreadKey],
        status_of: Callable[[ThreadKey], Awaitable[str | None]],
    ) -> None:
        """At start-up: the agent session of each thread as its records say (a stopped
        process may have left one showing a turn or a wait that is over). Read in the
        thread's lane, so a turn of this process shows itself after it, never before; a
        few threads at a time, so a workspace without the surface (or Slack's rate limit)
        answers the first before the rest are asked, and turns do not wait behind them."""
        self.sessions.show_recorded(threads, status_of)

    def flush(self) -> None:
        """Clear now the status lines that wait for their second (the bot is stopping)."""
        self.line.flush()

    def stopping(self) -> None:
        """The bot stops: clear every status line it set that may still show, and move
        the agent sessions of turns the drain cut off "processing"."""
        self.line.stopping()
        self.sessions.stopping()

    async def settle(self) -> None:
        """``flush``, then let every lane finish."""
        self.flush()
        await self.lanes.settle()

    # from the surface and the streams -----------------------------------------------------
    def _posted(self, thread: ThreadKey, sent_at: float, card: bool) -> None:
        self.line.posted(thread, sent_at)
        if card:
            self._card_posted(thread)

    def _card_posted(self, thread: ThreadKey) -> None:
        """A card was posted (which clears the status line): say again that it waits."""
        left = self.waiting_cards.get(thread)
        if left is None:
            return
        if left <= 1:
            del self.waiting_cards[thread]  # parked threads cost nothing in memory
        else:
            self.waiting_cards[thread] = left - 1
        if self.line.offered:
            self.line.show(thread, WAITING)

    # in the background, in order per thread (``Lanes``) ------------------------------------
    async def _working(self, turn: LiveTurn, text: str) -> None:
        await self.sessions.processing(turn)
        if self.line.offered:
            await self.line.set(turn.thread, text)
        if not self.line.offered and turn.message_ts:
            await self.react(turn.thread.channel, turn.message_ts)

    async def _waiting(self, turn: LiveTurn) -> None:
        await self.sessions.set_for_turn(turn, "suspended")
        if self.line.offered:
            await self.line.set(turn.thread, WAITING)
