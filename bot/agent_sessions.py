"""The thread's agent session (``agents.sessions.setStatus``, for apps declared as agents).

``processing`` while a turn runs, which gives people the stop button, ``suspended`` while
an approval waits, ``active`` when the turn is over. Two paths move it: these calls, in
the thread's lane (``Lanes``), and each streamed reply's ``chat.stopStream``, which sets
the status it carries (``active`` unless told). So this keeps what each thread's session
must show (``due``), tells the streams (``status_for_stream``), and sets the due status
again when a stopStream that carried another one may have landed after this view's own
call (``stream_stopped``): the last status to land is the true one.

A call that failed on the way is left to the outbox (``requeue``), except ``processing``:
a turn that starts meanwhile shows itself.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from slack_sdk.web.async_client import AsyncWebClient

from agent_core.live import LiveTurn
from sessions import ThreadKey

from .lanes import Lanes
from .live_streams import LiveStreams
from .status_calls import status_call
from .surface_support import SurfaceSupport

__all__ = ["AgentSessions", "Requeue"]

log = logging.getLogger("signoff.slack")

# Queue the thread's status for the outbox (thread, a key naming it): set from disk when
# sent, with the outbox's patience, when every try of the live call failed on the way.
Requeue = Callable[[ThreadKey, str], None]
StatusOf = Callable[[ThreadKey], Awaitable[str | None]]
_NO_STOP_WARNING = "missing_agent_session_stopped_event_subscription"
_MAX_THREADS = 1024
_RESHOWING = 4


class AgentSessions:
    def __init__(
        self,
        client: AsyncWebClient,
        *,
        support: SurfaceSupport,
        lanes: Lanes,
        streams: LiveStreams,
    ) -> None:
        self.client = client
        self.support = support
        self.lanes = lanes
        self.requeue: Requeue | None = None  # bound once the engine is open
        # Threads whose session Slack was last told is "processing" (idle ones are not kept).
        self.shown: dict[ThreadKey, str] = {}
        # What each thread's session must show while a turn runs or waits (a reply's
        # chat.stopStream would otherwise move it to "active" mid-turn).
        self.due: dict[ThreadKey, str] = {}
        self._reshowing = asyncio.Semaphore(_RESHOWING)  # start-up's threads at a time
        self._warned_no_stop = False
        streams.messages.session_status = self.status_for_stream
        streams.messages.session_stopped = self.stream_stopped

    @property
    def offered(self) -> bool:
        return self.support.offers("sessions")

    def remember(self, thread: ThreadKey, status: str) -> None:
        """``status`` is due in the thread from now (a turn runs, or waits)."""
        self.due.pop(thread, None)
        self.due[thread] = status
        while len(self.due) > _MAX_THREADS:  # the oldest: their streams ended long ago
            del self.due[next(iter(self.due))]

    def forget(self, thread: ThreadKey) -> None:
        """The thread's turn is over: "active" is due (Slack's default)."""
        self.due.pop(thread, None)

    async def processing(self, turn: LiveTurn) -> None:
        if self.shown.get(turn.thread) != "processing":
            await self.set_for_turn(turn, "processing")

    async def set_for_turn(self, turn: LiveTurn, status: str) -> None:
        key = f"{turn.session_id or 'thread'}-live-{status}"
        await self.set(turn.thread, status, title=turn.title, key=key)

    def show_recorded(self, threads: Sequence[ThreadKey], status_of: StatusOf) -> None:
        """At start-up: each thread's session as its records say (see ``SlackLiveView``)."""
        if not self.offered:
            return
        for thread in threads:
            self.lanes.add(thread, functools.partial(self._show_recorded, thread, status_of))

    def stopping(self) -> None:
        """A session left "processing" (a cut turn) shows a stop button nobody will hear
        until the next start, whose recovery turn shows "processing" again when it runs.
        A stream ended in the drain must not set it back either (``due``)."""
        for thread in [t for t, status in self.due.items() if status == "processing"]:
            del self.due[thread]
            key = f"stopping-{time.time_ns()}"
            self.lanes.add(thread, functools.partial(self.set, thread, "active", title="", key=key))

    # the streams' side --------------------------------------------------------------------
    def status_for_stream(self, thread: ThreadKey) -> str | None:
        return self.due.get(thread) if self.offered else None

    def stream_stopped(self, thread: ThreadKey, carried: str | None) -> None:
        """A chat.stopStream is over, and may have set the session to ``carried`` (Slack's
        "active" when None) after this view's own newer call landed: then set what is due
        now, behind the thread's calls, so the last status to land is the true one."""
        if (carried or "active") != "processing":
            self.shown.pop(thread, None)  # Slack's session may no longer be processing
        if self.offered and (carried or "active") != (self.due.get(thread) or "active"):
            self.lanes.add(thread, functools.partial(self._set_due, thread))

    async def _set_due(self, thread: ThreadKey) -> None:
        status = self.due.get(thread) or "active"  # read when sent: it may change meanwhile
        await self.set(thread, status, title="", key=f"after-stream-{time.time_ns()}")

    # the calls -------------------------------------------------------------------------
    async def _show_recorded(self, thread: ThreadKey, status_of: StatusOf) -> None:
        async with self._reshowing:
            if not self.offered or self.lanes.newer_waits(thread):
                return  # switched off meanwhile, or a turn of this process shows itself
            status = await status_of(thread)
            if status is None:  # a turn runs or is due, and shows itself
                return
            if status == "suspended" and thread not in self.due:
                # A stream the last process left is finalized later (its reply's delivery,
                # the sweep), and chat.stopStream moves the session to "active" unless told.
                self.remember(thread, status)
            await self.set(thread, status, title="", key=f"start-{time.time_ns()}")

    async def set(self, thread: ThreadKey, status: str, *, title: str, key: str) -> None:
        if not self.offered:
            return
        if status != "processing":
            # Moved, or unknown if the call fails (the outbox then sets it): either way not
            # "processing" for sure. Kept on a failure, the thread stayed here for as long
            # as the bot ran, and its next turn was never shown processing (no stop button).
            self.shown.pop(thread, None)

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
        if status == "processing":
            self.shown[thread] = status  # nothing to remember while idle
        if answer.get("warning") == _NO_STOP_WARNING and not self._warned_no_stop:
            self._warned_no_stop = True
            log.warning(
                "Slack shows no stop button: subscribe the app to the agent_session_stopped "
                "event (manifest.yml) so people can stop signoff from the thread"
            )
