"""What the page is served: its HTML and scripts (under a policy that runs only them),
uploaded files (each sandboxed: someone else's content), and a Server-Sent Events stream
(/_ui/events) that says "something changed" (the page then fetches what it shows)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from localslack.changes import ChangeFeed

if TYPE_CHECKING:
    from localslack.state import Workspace

__all__ = ["page_routes"]

_STATIC = Path(__file__).parent
_ASSETS = {
    "agents.js": "text/javascript",
    "app.js": "text/javascript",
    "blockkit.js": "text/javascript",
    "core.js": "text/javascript",
    "home.js": "text/javascript",
    "markdown.js": "text/javascript",
    "messages.js": "text/javascript",
    "style.css": "text/css",
}
_Route = Callable[[web.Request], Awaitable[web.StreamResponse]]
# The page runs its own files only, and fetches nothing but this server: the UI posts as
# anyone and clicks any button, so markup that slipped past an escape must not run.
_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# An uploaded file is someone else's content: an origin of its own and no script.
_FILE_POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


def page_routes(ws: Workspace, feed: ChangeFeed) -> list[tuple[str, str, _Route]]:
    async def index(request: web.Request) -> web.StreamResponse:
        headers = {"Cache-Control": "no-cache", "Content-Security-Policy": _POLICY}
        return web.FileResponse(_STATIC / "index.html", headers=headers)

    async def asset(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in _ASSETS:
            raise web.HTTPNotFound()
        body = (_STATIC / name).read_bytes()
        return web.Response(
            body=body, content_type=_ASSETS[name], headers={"Cache-Control": "no-cache"}
        )

    async def file(request: web.Request) -> web.Response:
        stored = ws.files.get(request.match_info["file_id"])
        if stored is None or stored.content is None or not stored.completed:
            raise web.HTTPNotFound()
        kind = stored.mimetype
        if kind.startswith("text/") or kind == "application/octet-stream":
            kind = "text/plain"
        # An upload is someone else's content: an SVG's script, opened from the chat, ran
        # in this origin, where the pages post as the bot. Sandboxed, it has none.
        headers = {"Content-Security-Policy": _FILE_POLICY, "X-Content-Type-Options": "nosniff"}
        return web.Response(
            body=stored.content, content_type=kind, charset="utf-8", headers=headers
        )

    async def events(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        seen = feed.revision
        try:
            await response.write(f"retry: 1000\nevent: hello\ndata: {seen}\n\n".encode())
            while not feed.closed:
                try:
                    async with asyncio.timeout(15):
                        seen = await feed.next_change(seen)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                if feed.closed:
                    break
                await asyncio.sleep(0.05)  # let a burst of changes settle into one event
                seen = feed.revision
                await response.write(f"data: {json.dumps({'revision': seen})}\n\n".encode())
        except ConnectionResetError:
            pass  # the page went away
        return response

    return [
        ("GET", "/ui/", index),
        ("GET", "/ui/{name}", asset),
        ("GET", "/_ui/files/{file_id}", file),
        ("GET", "/_ui/events", events),
    ]
