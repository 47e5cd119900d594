"""The live view of a turn on Slack (``agent_core.live.LiveView``).

A bot mentioned in channels shows what it is doing with two of Slack's AI surfaces:

- the thread's status line (``assistant.threads.setStatus``, with ``chat:write`` in
  channel threads): "signoff is thinking…", "…is running restart_service…", "…is
  waiting for approval", cleared when the session ends. Slack clears it by itself when
  the bot posts in the thread or after two minutes, so it is set again at each step (and
  after a card is posted, while the thread waits), and every ``keep_every`` seconds while
  a step lasts (a tool or a model that takes minutes); and when a session ends, it is cleared
  only if no post since it was set did so (``thread_posts``), a second later, which
  leaves the reply that usually ends a turn the time to land: most turns cost one
  status call, not two;
- the thread's agent session (``agents.sessions.setStatus``, for apps declared as agents):
  ``processing`` while a turn runs, which gives people the stop button, ``suspended``
  while an approval waits, ``active`` when the turn is over;

and streams the model's replies (``live_streams``). Each call is best effort, in the
background, in order per thread; a surface the workspace lacks is switched off once
(``surface_support``): without the status line the 👀 reaction marks the message taken.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from slack_sdk.web.async_client import AsyncWebClient

from agent_core.live import LiveTurn, ReplyStream
from agent_core.model import RetryNotice
from sessions import ThreadKey

from .lanes import Lanes
from .live_streams import LiveStreams
from .status_calls import status_call
from .status_texts import THINKING, WAITING, retry_status, running
from .surface_support import SurfaceSupport

__all__ = ["SlackLiveView"]

log = logging.getLogger("signoff.slack")

React = Callable[[str, str], Awaitable[None]]
# Queue the thread's status for the outbox (thread, a key naming it): set from disk when
# sent, with the outbox's patience, when every try of the live call failed on the way.
Requeue = Callable[[ThreadKey, str], None]
_NO_STOP_WARNING = "missing_agent_session_stopped_event_subscription"
_MAX_WAITING = 1024
_RESHOWING = 4
CLEAR_AFTER_S = 1.0  # after a session ends: its reply, if any, has usually landed by then
_STATUS_TTL_S = 120.0  # Slack removes a status line by itself after two minutes
KEEP_EVERY_S = 100.0  # while a step lasts, set again before Slack's two minutes are up
# A step's line is kept for so long at most: one whose turn never said it ended (a worker
# that failed and retries) must not say "running" for ever.
_KEEP_FOR_S = 1800.0


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
        self._lanes = Lanes(streams.spawn)
        self._reshowing = asyncio.Semaphore(_RESHOWING)  # start-up's threads at a time
        self._sessions: dict[ThreadKey, str] = {}
        # Parked threads whose cards are still to be posted (each post clears the status).
        self._waiting: dict[ThreadKey, int] = {}
        # Threads whose status line signoff set and no post has cleared yet: when it was set.
        self._shown: dict[ThreadKey, float] = {}
        self._clears: dict[ThreadKey, asyncio.TimerHandle] = {}
        # Threads whose step's line is set again before Slack's timeout takes it away.
        self._keeps: dict[ThreadKey, asyncio.TimerHandle] = {}
        self.keep_every = KEEP_EVERY_S
        # What each thread's session must show while a turn runs or waits (a reply's
        # chat.stopStream would otherwise move it to "active" mid-turn).
        self._want: dict[ThreadKey, str] = {}
        self._warned_no_stop = False
        self.requeue: Requeue | None = None  # bound once the engine is open
        streams.posts.watch(self._posted)
        streams.session_status = self._session_after_stream
        streams.session_stopped = self._session_stopped

    # the LiveView protocol ----------------------------------------------------------------
    async def working(self, turn: LiveTurn, *, tools: Sequence[str] = ()) -> None:
        self._waiting.pop(turn.thread, None)
        self._remember(turn.thread, "processing")
        self._cancel_clear(turn.thread)
        text = running(tools) if tools else THINKING
        self._lanes.add(turn.thread, lambda: self._working(turn, text))
        if self.support.offers("status"):
            self._keep(turn.thread, text, until=asyncio.get_running_loop().time() + _KEEP_FOR_S)

    def reply_stream(self, turn: LiveTurn, *, entry_id: str) -> ReplyStream:
        stream: ReplyStream = self.streams.open(turn, entry_id=entry_id, people=turn.people)
        return stream

    async def waiting(self, turn: LiveTurn, *, approvals: Sequence[str]) -> None:
        self._cancel_clear(turn.thread)
        self._cancel_keep(turn.thread)  # an approval waits for days: its session says so
        self._waiting[turn.thread] = len(approvals)
        while len(self._waiting) > _MAX_WAITING:  # cards posted before this: nothing to redo
            del self._waiting[next(iter(self._waiting))]
        self._remember(turn.thread, "suspended")
        self._lanes.add(turn.thread, lambda: self._show(turn, session="suspended", status=WAITING))

    async def ended(self, turn: LiveTurn, *, state: str) -> None:
        self._cancel_keep(turn.thread)
        self._waiting.pop(turn.thread, None)
        self._want.pop(turn.thread, None)
        self._lanes.add(turn.thread, lambda: self._set_session(turn, "active"))
        if self.support.offers("status"):
            self._cancel_clear(turn.thread)
            self._clears[turn.thread] = asyncio.get_running_loop().call_later(
                CLEAR_AFTER_S, self._clear_due, turn.thread
            )

    async def retrying(self, turn: LiveTurn, notice: RetryNotice) -> None:
        if self.support.offers("status"):  # a reaction says "working" already
            self._cancel_keep(turn.thread)  # its line says why it waits, until the next step
            text = retry_status(notice)
            self._lanes.add(turn.thread, lambda: self._set_status(turn.thread, text))

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
        if not self.support.offers("sessions"):
            return
        for thread in threads:
            self._lanes.add(thread, functools.partial(self._show_recorded, thread, status_of))

    async def _show_recorded(
        self, thread: ThreadKey, status_of: Callable[[ThreadKey], Awaitable[str | None]]
    ) -> None:
        async with self._reshowing:
            if not self.support.offers("sessions") or self._lanes.newer_waits(thread):
                return  # switched off meanwhile, or a turn of this process shows itself
            await self._show_status_of(thread, status_of)

    async def _show_status_of(
        self, thread: ThreadKey, status_of: Callable[[ThreadKey], Awaitable[str | None]]
    ) -> None:
        status = await status_of(thread)
        if status is None:  # a turn runs or is due, and shows itself
            return
        if status == "suspended" and thread not in self._want:
            # A stream the last process left is finalized later (its reply's delivery, the
            # sweep), and chat.stopStream moves the session to "active" unless told.
            self._remember(thread, status)
        await self._set_thread_session(thread, status, title="", key=f"start-{time.time_ns()}")

    def flush(self) -> None:
        """Clear now the status lines that wait for their second (the bot is stopping)."""
        for thread in list(self._clears):
            self._cancel_clear(thread)
            self._clear_due(thread)

    def stopping(self) -> None:
        """The bot stops: clear every status line it set that may still show, not only
        those waiting for their second. A turn the drain cut ("is running…"), a retry's
        countdown or a wait has nobody left to keep it true, and Slack would show it for
        up to two minutes; the next start shows what its turns do."""
        for thread in list(self._keeps):
            self._cancel_keep(thread)
        for thread in {*self._shown, *self._clears, *self._lanes.threads()}:  # a call on its way
            self._cancel_clear(thread)
            self._clear_due(thread)
        # A session left "processing" (a cut turn) shows a stop button nobody will hear
        # until the next start, whose recovery turn shows "processing" again when it runs.
        # A stream ended in the drain must not set it back either (``_want``).
        for thread in [t for t, want in self._want.items() if want == "processing"]:
            del self._want[thread]
            key = f"stopping-{time.time_ns()}"
            self._lanes.add(
                thread,
                functools.partial(self._set_thread_session, thread, "active", title="", key=key),
            )

    async def settle(self) -> None:
        """``flush``, then let every lane finish."""
        self.flush()
        await self._lanes.settle()

    def _remember(self, thread: ThreadKey, session: str) -> None:
        self._want.pop(thread, None)
        self._want[thread] = session
        while len(self._want) > _MAX_WAITING:  # the oldest: their streams ended long ago
            del self._want[next(iter(self._want))]

    def _session_after_stream(self, thread: ThreadKey) -> str | None:
        return self._want.get(thread) if self.support.offers("sessions") else None

    def _session_stopped(self, thread: ThreadKey, carried: str | None) -> None:
        """A chat.stopStream is over, and may have set the session to ``carried`` (Slack's
        "active" when None) after this view's own newer call landed: then set what is due
        now, behind the thread's calls, so the last status to land is the true one."""
        if (carried or "active") != "processing":
            self._sessions.pop(thread, None)  # Slack's session may no longer be processing
        if not self.support.offers("sessions"):
            return
        if (carried or "active") != (self._want.get(thread) or "active"):
            self._lanes.add(thread, functools.partial(self._set_due_session, thread))

    async def _set_due_session(self, thread: ThreadKey) -> None:
        status = self._want.get(thread) or "active"  # read when sent: it may change meanwhile
        key = f"after-stream-{time.time_ns()}"
        await self._set_thread_session(thread, status, title="", key=key)

    def _cancel_clear(self, thread: ThreadKey) -> None:
        if (pending := self._clears.pop(thread, None)) is not None:
            pending.cancel()

    def _keep(self, thread: ThreadKey, text: str, *, until: float) -> None:
        """Set ``text`` again in ``keep_every`` seconds (until the step ends, or ``until``)."""
        self._cancel_keep(thread)
        loop = asyncio.get_running_loop()
        if loop.time() + self.keep_every <= until:
            self._keeps[thread] = loop.call_later(
                self.keep_every, self._keep_due, thread, text, until
            )

    def _keep_due(self, thread: ThreadKey, text: str, until: float) -> None:
        self._keeps.pop(thread, None)
        self._lanes.add(thread, lambda: self._show_again(thread, text))
        self._keep(thread, text, until=until)

    def _cancel_keep(self, thread: ThreadKey) -> None:
        if (pending := self._keeps.pop(thread, None)) is not None:
            pending.cancel()

    async def _show_again(self, thread: ThreadKey, text: str) -> None:
        # Only a line still shown: one a post cleared stays cleared, as Slack means it to.
        if thread in self._shown and not self._lanes.newer_waits(thread):
            await self._set_status(thread, text)

    def _clear_due(self, thread: ThreadKey) -> None:
        self._clears.pop(thread, None)
        # Looked at in the lane, behind the thread's status calls: one still on its way
        # (a 429 waited out, a slow answer) lands after the second and must be cleared too.
        self._lanes.add(thread, lambda: self._clear_if_shown(thread))

    async def _clear_if_shown(self, thread: ThreadKey) -> None:
        set_at = self._shown.get(thread)
        if set_at is not None and time.monotonic() - set_at < _STATUS_TTL_S:
            await self._set_status(thread, "")
        else:
            self._shown.pop(thread, None)  # a post or Slack's own timeout cleared it

    # from the surface and the streams -----------------------------------------------------
    def _posted(self, thread: ThreadKey, sent_at: float, card: bool) -> None:
        set_at = self._shown.get(thread)
        if set_at is not None and sent_at > set_at:
            del self._shown[thread]  # Slack saw the post after the status: the line is gone
        if card:
            self._card_posted(thread)

    def _card_posted(self, thread: ThreadKey) -> None:
        """A card was posted (which clears the status line): say again that it waits."""
        left = self._waiting.get(thread)
        if left is None:
            return
        if left <= 1:
            del self._waiting[thread]  # parked threads cost nothing in memory
        else:
            self._waiting[thread] = left - 1
        if self.support.offers("status"):
            self._lanes.add(thread, lambda: self._set_status(thread, WAITING))

    # in the background, in order per thread (``Lanes``) ------------------------------------
    async def _working(self, turn: LiveTurn, text: str) -> None:
        if self._sessions.get(turn.thread) != "processing":
            await self._set_session(turn, "processing")
        if self.support.offers("status"):
            await self._set_status(turn.thread, text)
        if not self.support.offers("status") and turn.message_ts:
            await self.react(turn.thread.channel, turn.message_ts)

    async def _show(self, turn: LiveTurn, *, session: str, status: str) -> None:
        await self._set_session(turn, session)
        if self.support.offers("status"):
            await self._set_status(turn.thread, status)

    async def _set_status(self, thread: ThreadKey, status: str) -> None:
        def lost() -> None:
            # It may have landed (Slack took it, the answer was lost): cleared at the
            # session's end like one Slack answered, at worst by one needless call.
            if status:
                self._mark_shown(thread)

        answer = await status_call(
            self.support,
            "status",
            "assistant.threads.setStatus",
            lambda: self.client.assistant_threads_setStatus(
                channel_id=thread.channel, thread_ts=thread.thread_ts, status=status
            ),
            lost=lost,
            superseded=lambda: self._lanes.newer_waits(thread),
        )
        if answer is None:
            return  # not set: what the thread shows is what it showed before
        self._shown.pop(thread, None)
        if status:
            self._mark_shown(thread)  # answered: a post sent from now clears it

    def _mark_shown(self, thread: ThreadKey) -> None:
        self._shown.pop(thread, None)
        self._shown[thread] = time.monotonic()
        while len(self._shown) > _MAX_WAITING:  # the oldest have timed out on Slack
            del self._shown[next(iter(self._shown))]

    async def _set_session(self, turn: LiveTurn, status: str) -> None:
        key = f"{turn.session_id or 'thread'}-live-{status}"
        await self._set_thread_session(turn.thread, status, title=turn.title, key=key)

    async def _set_thread_session(
        self, thread: ThreadKey, status: str, *, title: str, key: str
    ) -> None:
        if not self.support.offers("sessions"):
            return

        def lost() -> None:
            # A session left processing keeps its stop button for ever: the outbox keeps
            # asking (a turn that starts meanwhile shows itself, and the entry is skipped).
            if status != "processing" and self.requeue is not None:
                self.requeue(thread, key)

        answer = await status_call(
            self.support,
            "sessions",
            "agents.sessions.setStatus",
            lambda: self.client.agents_sessions_setStatus(
                channel_id=thread.channel,
                thread_ts=thread.thread_ts,
                status=status,
                title=title or None,
            ),
            lost=lost,
        )
        if answer is None:
            return
        self._sessions[thread] = status
        if status != "processing":
            self._sessions.pop(thread, None)  # nothing to remember while idle
        if answer.get("warning") == _NO_STOP_WARNING and not self._warned_no_stop:
            self._warned_no_stop = True
            log.warning(
                "Slack shows no stop button: subscribe the app to the agent_session_stopped "
                "event (manifest.yml) so people can stop signoff from the thread"
            )
