"""What LocalSlack adds around the fake itself: the change feed, the optional state file,
the browser UI and routes the hosting application mounts next to it.

Kept apart from server.py, which only calls ``mount`` while building its aiohttp app; the
rest hangs on the app's signals: on start-up (before the socket listens) the state file is
loaded and the feed attached, on shutdown the feed releases streaming pages (so stopping
does not wait for open browsers), on cleanup (every request done) the state file is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from localslack.changes import ChangeFeed
from localslack.persist import StateFile
from localslack.ui import UiOptions, ui_routes

if TYPE_CHECKING:
    from localslack.server import LocalSlack

__all__ = ["Addons"]


class Addons:
    def __init__(
        self,
        server: LocalSlack,
        *,
        state_file: str | Path | None,
        ui: UiOptions | None,
        routes: Iterable[web.AbstractRouteDef],
    ) -> None:
        self._server = server
        self.feed = ChangeFeed()
        self.ui = ui or UiOptions()
        self.routes = list(routes)
        self.state = None if state_file is None else StateFile(state_file, server._rt)
        if self.state is not None:
            self.feed.listeners.append(self.state.changed)

        self._loaded = False

    def mount(self, app: web.Application) -> None:
        app.middlewares.append(self.feed.middleware)
        app.router.add_routes(ui_routes(self._server, self.feed, self.ui))
        app.router.add_routes(self.routes)
        app.on_startup.append(self._on_startup)
        app.on_shutdown.append(self._on_shutdown)
        app.on_cleanup.append(self._on_cleanup)

    async def _on_startup(self, app: web.Application) -> None:
        if self.state is not None and not self._loaded:
            self.state.load()
        self._loaded = True
        self.feed.attach(self._server._rt)

    async def _on_shutdown(self, app: web.Application) -> None:
        await self.feed.close()

    async def _on_cleanup(self, app: web.Application) -> None:
        if self.state is not None:
            await self.state.flush()
