"""The thread's status line (``assistant.threads.setStatus``) and the timers that keep it true.

"signoff is thinking…", "…is running restart_service…", "…is waiting for approval"; it
needs ``chat:write`` in channel threads. Slack clears it by itself when the bot posts in
the thread or after two minutes, so:

- a step's line is set again every ``keep_every`` seconds while the step lasts (a tool or
  a model that takes minutes), unless a post cleared it meanwhile, for half an hour at most;
- when a session ends it is cleared only if no post since it was set did so
  (``thread_posts``), a second later, which leaves the reply that usually ends a turn the
  time to land: most turns cost one status call, not two;
- a stopping bot clears every line it set that may still show.

Every call runs in the thread's lane (``Lanes``), behind its other status calls.
"""

from __future__ import annotations

import asyncio
import time

from slack_sdk.web.async_client import AsyncWebClient

from sessions import ThreadKey

from .lanes import Lanes
from .status_calls import status_call
from .surface_support import SurfaceSupport

__all__ = ["CLEAR_AFTER_S", "KEEP_EVERY_S", "StatusLine"]

CLEAR_AFTER_S = 1.0  # after a session ends: its reply, if any, has usually landed by then
_STATUS_TTL_S = 120.0  # Slack removes a status line by itself after two minutes
KEEP_EVERY_S = 100.0  # while a step lasts, set again before Slack's two minutes are up
# A step's line is kept for so long at most: one whose turn never said it ended (a worker
# that failed and retries) must not say "running" for ever.
_KEEP_FOR_S = 1800.0
_MAX_SHOWN = 1024


class StatusLine:
    def __init__(self, client: AsyncWebClient, *, support: SurfaceSupport, lanes: Lanes) -> None:
        self.client = client
        self.support = support
        self.lanes = lanes
        # Threads whose line signoff set and no post has cleared yet: when it was set.
        self.shown: dict[ThreadKey, float] = {}
        # Threads whose session ended, their line to be cleared in a second.
        self.clears: dict[ThreadKey, asyncio.TimerHandle] = {}
        # Threads whose step's line is set again before Slack's timeout takes it away.
        self.keeps: dict[ThreadKey, asyncio.TimerHandle] = {}
        self.keep_every = KEEP_EVERY_S

    @property
    def offered(self) -> bool:
        return self.support.offers("status")

    def show(self, thread: ThreadKey, text: str) -> None:
        """Set ``text`` in the thread's lane."""
        self.lanes.add(thread, lambda: self.set(thread, text))

    def keep_step(self, thread: ThreadKey, text: str) -> None:
        """A step began: its line is set again while it lasts (for half an hour at most)."""
        self.keep(thread, text, until=asyncio.get_running_loop().time() + _KEEP_FOR_S)

    def keep(self, thread: ThreadKey, text: str, *, until: float) -> None:
        """Set ``text`` again in ``keep_every`` seconds (until the step ends, or ``until``)."""
        self.cancel_keep(thread)
        loop = asyncio.get_running_loop()
        if loop.time() + self.keep_every <= until:
            self.keeps[thread] = loop.call_later(
                self.keep_every, self._keep_due, thread, text, until
            )

    def cancel_keep(self, thread: ThreadKey) -> None:
        if (pending := self.keeps.pop(thread, None)) is not None:
            pending.cancel()

    def clear_later(self, thread: ThreadKey) -> None:
        """The session ended: clear the line in a second, if no post has cleared it."""
        self.cancel_clear(thread)
        self.clears[thread] = asyncio.get_running_loop().call_later(
            CLEAR_AFTER_S, self._clear_due, thread
        )

    def cancel_clear(self, thread: ThreadKey) -> None:
        if (pending := self.clears.pop(thread, None)) is not None:
            pending.cancel()

    def flush(self) -> None:
        """Clear now the lines that wait for their second (the bot is stopping)."""
        for thread in list(self.clears):
            self.cancel_clear(thread)
            self._clear_due(thread)

    def stopping(self) -> None:
        """Clear every line signoff set that may still show, not only those waiting for
        their second. A turn the drain cut ("is running…"), a retry's countdown or a wait
        has nobody left to keep it true, and Slack would show it for up to two minutes;
        the next start shows what its turns do."""
        for thread in list(self.keeps):
            self.cancel_keep(thread)
        for thread in {*self.shown, *self.clears, *self.lanes.threads()}:  # a call on its way
            self.cancel_clear(thread)
            self._clear_due(thread)

    def posted(self, thread: ThreadKey, sent_at: float) -> None:
        set_at = self.shown.get(thread)
        if set_at is not None and sent_at > set_at:
            del self.shown[thread]  # Slack saw the post after the status: the line is gone

    async def set(self, thread: ThreadKey, status: str) -> None:
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
            superseded=lambda: self.lanes.newer_waits(thread),
        )
        if answer is None:
            return  # not set: what the thread shows is what it showed before
        self.shown.pop(thread, None)
        if status:
            self._mark_shown(thread)  # answered: a post sent from now clears it

    def _keep_due(self, thread: ThreadKey, text: str, until: float) -> None:
        self.keeps.pop(thread, None)
        self.lanes.add(thread, lambda: self._show_again(thread, text))
        self.keep(thread, text, until=until)

    async def _show_again(self, thread: ThreadKey, text: str) -> None:
        # Only a line still shown: one a post cleared stays cleared, as Slack means it to.
        if thread in self.shown and not self.lanes.newer_waits(thread):
            await self.set(thread, text)

    def _clear_due(self, thread: ThreadKey) -> None:
        self.clears.pop(thread, None)
        # Looked at in the lane, behind the thread's status calls: one still on its way
        # (a 429 waited out, a slow answer) lands after the second and must be cleared too.
        self.lanes.add(thread, lambda: self._clear_if_shown(thread))

    async def _clear_if_shown(self, thread: ThreadKey) -> None:
        set_at = self.shown.get(thread)
        if set_at is not None and time.monotonic() - set_at < _STATUS_TTL_S:
            await self.set(thread, "")
        else:
            self.shown.pop(thread, None)  # a post or Slack's own timeout cleared it

    def _mark_shown(self, thread: ThreadKey) -> None:
        self.shown.pop(thread, None)
        self.shown[thread] = time.monotonic()
        while len(self.shown) > _MAX_SHOWN:  # the oldest have timed out on Slack
            del self.shown[next(iter(self.shown))]
