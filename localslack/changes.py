"""A change feed: one revision counter that every workspace change moves forward.

Changes reach the workspace three ways, and the feed hears all of them:

* HTTP requests that write (the Web API, the control API, response_url posts, uploads, the
  browser UI's own actions), through an aiohttp middleware;
* Socket Mode acks whose payload changes something (a slash command's answer, a modal's
  ``response_action``), through the hub's ack listeners;
* in-process control calls (tests driving LocalSlack directly), through the message watches.

Listeners (the state-file writer) are called synchronously; browsers long-wait with
:meth:`ChangeFeed.next_change`. The feed says *that* something changed, never what:
readers fetch the state they show, so nothing is lost when notifications coalesce.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable

from aiohttp import web

from localslack.deliveries import Delivery
from localslack.records import JSON
from localslack.runtime import Runtime

__all__ = ["ChangeFeed"]

Listener = Callable[[int], None]
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Paths whose non-GET requests may write; Web API methods that only read are skipped.
_WRITING_PATHS = re.compile(r"^/(api|_control|_ui/api|response|upload)/")
_READ_ONLY_METHODS = re.compile(
    r"^/api/(auth\.test|apps\.connections\.open|users\.|usergroups\.list|usergroups\.users\.list"
    r"|team\.info|bots\.info|files\.info|chat\.getPermalink"
    r"|conversations\.(history|replies|info|list|members))"
)


class ChangeFeed:
    def __init__(self) -> None:
        self.revision = 0
        self.listeners: list[Listener] = []
        self._waiters: list[asyncio.Future[int]] = []
        self._watchers: list[asyncio.Task[JSON]] = []
        self._detach: Callable[[], None] | None = None
        self.closed = False

    def bump(self) -> None:
        self.revision += 1
        for listener in list(self.listeners):
            listener(self.revision)
        waiters, self._waiters = self._waiters, []
        for future in waiters:
            if not future.done():
                future.set_result(self.revision)

    async def next_change(self, after: int) -> int:
        """The revision once it is past `after`; returns at once when the feed is closed.
        Callers bound the wait with asyncio.timeout()."""
        if self.revision > after or self.closed:
            return self.revision
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        try:
            return await future
        finally:
            if future in self._waiters:  # timed out: forget it now, not at the next change
                self._waiters.remove(future)

    # -- sources --------------------------------------------------------------------------

    @web.middleware
    async def middleware(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        finally:
            path = request.path
            if (
                request.method not in ("GET", "HEAD", "OPTIONS")
                and _WRITING_PATHS.match(path)
                and not _READ_ONLY_METHODS.match(path)
            ):
                self.bump()

    def attach(self, rt: Runtime) -> None:
        """Listen to acks and message watches; call with the event loop running."""
        self.closed = False

        async def on_ack(delivery: Delivery) -> None:
            if delivery.type != "events_api":
                self.bump()

        rt.hub.ack_listeners.append(on_ack)
        self._detach = lambda: rt.hub.ack_listeners.remove(on_ack)

        def observe(message: JSON) -> bool:
            self.bump()
            return False  # never "found": keep observing until the watch is cancelled

        ws = rt.workspace
        for watch in (ws.watch, ws.ephemeral_watch, ws.surface_watch):
            self._watchers.append(asyncio.ensure_future(watch.wait(observe, existing=())))

    async def close(self) -> None:
        """Release every waiter (so streaming responses end) and stop observing."""
        self.closed = True
        if self._detach is not None:
            self._detach()
            self._detach = None
        waiters, self._waiters = self._waiters, []
        for future in waiters:
            if not future.done():
                future.set_result(self.revision)
        for task in self._watchers:
            task.cancel()
        for task in self._watchers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._watchers.clear()
