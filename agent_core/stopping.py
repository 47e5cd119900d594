"""A person stops the agent in a thread (Slack's stop button): a mixin of ``Engine``.

Clicks on one thread's stop are applied one at a time (``StopTurns``): Slack leaves the
button until the turn ends, and a second click while the first still asked Slack who may
decide would withdraw and confirm on its own. Each keeps its own budget from its arrival.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from approvals import Origin
from sessions import SessionState, ThreadDir, ThreadKey, utc_iso

from .live import LiveTurn
from .runtime import Runtime
from .stop_marker import StopRequest
from .stops import StopOutcome, StopTurns, stop_thread, superseded

__all__ = ["Stopping"]


class Stopping:
    rt: Runtime
    _tasks: dict[ThreadKey, asyncio.Task[None]]
    _stop_turns: StopTurns

    if TYPE_CHECKING:
        # The Engine's; declared for the type checker only.
        def wake(self, thread: ThreadKey) -> None: ...

        def knows_thread(self, thread: ThreadKey) -> bool: ...

    async def stop(
        self,
        thread: ThreadKey,
        *,
        user: str,
        slack_ts: str,
        origin: Origin | None = None,
        within: float | None = None,
    ) -> StopOutcome | None:
        """A person stopped the agent in ``thread`` (Slack's stop button): the running turn
        ends cancelled, the waiting requests they asked for or may decide (from ``origin``,
        as a click) are withdrawn (denied "stopped from Slack by …", their cards updated),
        and the thread is told. Durable when this returns; None for a thread signoff has no
        part in. ``within``: seconds Slack has to say whether they may decide each (past
        them a request is kept waiting, and the thread told why)."""
        if not self.knows_thread(thread):
            return None
        loop = asyncio.get_running_loop()
        deadline = None if within is None else loop.time() + within
        async with self._stop_turns.turn(thread):  # a click waits for the one before
            left = None if deadline is None else deadline - loop.time()
            return await self._stop(
                thread, user=user, slack_ts=slack_ts, origin=origin, within=left
            )

    async def _stop(
        self,
        thread: ThreadKey,
        *,
        user: str,
        slack_ts: str,
        origin: Origin | None,
        within: float | None,
    ) -> StopOutcome | None:
        stop = StopRequest(
            thread=thread,
            user=user,
            at=utc_iso(self.rt.clock.now()),
            slack_ts=slack_ts,
            origin=origin,
        )
        if superseded(self.rt, stop):
            return StopOutcome(stop=stop, interrupted=False, stale=True)
        task = self._tasks.get(thread)
        outcome = await stop_thread(
            self.rt, stop, running=task is not None and not task.done(), within=within
        )
        if outcome.repeated:
            return outcome  # applied before, this very stop: nothing more to do
        tdir = ThreadDir(self.rt.home, thread)
        if not outcome.interrupted and not outcome.withdrawn and not tdir.open_approvals():
            # Nothing runs and nothing waits, yet a stop button was clicked: the thread shows
            # a turn that is over (Slack leaves a session processing until the app moves it).
            idle = LiveTurn(thread=thread, session_id=tdir.head() or "")
            await self.rt.live.ended(idle, state=SessionState.CANCELLED.value)
        self.wake(thread)
        return outcome
