"""The browser UI's HTTP side: static files under /ui/, a JSON API under /_ui/api/, files, and
a Server-Sent Events stream (/_ui/events) that says "something changed" (the page then
fetches what it shows). Every action goes through the same control methods tests use; the
App Home and agent-session actions are in routes_agents.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from localslack.changes import ChangeFeed
from localslack.errors import ControlError, SlackError
from localslack.methods_reactions import apply_reaction
from localslack.records import JSON
from localslack.ui.decorate import surfaces
from localslack.ui.options import UiOptions, compose_text
from localslack.ui.routes_agents import agent_ui_routes

if TYPE_CHECKING:
    from localslack.server import LocalSlack

__all__ = ["ui_routes"]

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


def _guard(handler: _Route) -> _Route:
    async def guarded(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ControlError as exc:
            body = {"ok": False, "error": exc.code, "detail": exc.detail}
            return web.json_response(body, status=exc.status)
        except SlackError as exc:
            return web.json_response(exc.body(), status=400)

    return guarded


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise ControlError("invalid_json") from None
    if not isinstance(body, dict):
        raise ControlError("invalid_json", "expected an object")
    return body


def _need(params: dict[str, Any], *names: str) -> list[str]:
    missing = [n for n in names if not params.get(n)]
    if missing:
        raise ControlError("missing_argument", ", ".join(missing))
    return [str(_optional(params, n)) for n in names]


def _optional(params: dict[str, Any], name: str) -> str | None:
    """A text field, or None when absent or empty; a 400 naming it when it is no text."""
    value = params.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ControlError("invalid_argument", f"{name} must be a string")
    return value


def _top_level(message: JSON) -> bool:
    thread_ts = message.get("thread_ts")
    return not thread_ts or thread_ts == message.get("ts")


def ui_routes(server: LocalSlack, feed: ChangeFeed, options: UiOptions) -> list[web.RouteDef]:
    ws = server.workspace

    def bootstrap_data() -> JSON:
        described = server.describe()
        cfg = server.config
        return {
            "ok": True,
            "revision": feed.revision,
            "team": described["team"],
            "bot": described["bot"],
            "users": [
                {"id": u.id, "name": u.name, "real_name": u.real_name or u.name} for u in cfg.users
            ],
            "channels": described["channels"],
            "groups": [
                {"id": g.id, "handle": g.handle, "name": g.name, "members": list(g.members)}
                for g in ws.groups.values()
            ],
            "ims": described["ims"],
            "app": {
                "home_tab_enabled": cfg.home_tab_enabled,
                "messages_tab": cfg.messages_tab,
            },
            "ui": {
                "title": options.title,
                "links": [{"label": label, "url": url} for label, url in options.links],
                "message_link": (
                    {"label": options.message_link[0], "url": options.message_link[1]}
                    if options.message_link
                    else None
                ),
                "default_user": options.default_user or cfg.users[0].id,
                "default_channel": options.default_channel,
            },
        }

    def visible_channel(channel: str, user: str) -> str:
        chan = ws.channel(channel)
        if chan is None:
            raise ControlError("channel_not_found", channel, status=404)
        if chan.is_private and user not in chan.members:
            raise ControlError("not_in_channel", f"{user} cannot see {channel}", status=403)
        return chan.id

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

    async def bootstrap(request: web.Request) -> web.Response:
        return web.json_response(bootstrap_data())

    async def state(request: web.Request) -> web.Response:
        q = request.query
        user, channel = _need(dict(q), "user", "channel")
        channel_id = visible_channel(channel, user)
        revision = feed.revision
        ephemerals = server.ephemeral_messages(user=user, channel=channel_id)
        thread_ts = q.get("thread") or None
        thread: list[JSON] | None = None
        if thread_ts:
            try:
                thread = server.thread(channel=channel_id, ts=thread_ts)
            except ControlError:
                thread = None
            else:
                thread += [e for e in ephemerals if e.get("thread_ts") == thread_ts]
        messages = [m for m in server.messages(channel=channel_id) if _top_level(m)]
        messages += [e for e in ephemerals if not e.get("thread_ts")]
        around = surfaces(server, channel=channel_id, messages=[*messages, *(thread or [])])
        return web.json_response(
            {
                "ok": True,
                "revision": revision,
                "channel": channel_id,
                "messages": sorted(messages, key=lambda m: str(m.get("ts"))),
                "thread": None if thread is None else sorted(thread, key=lambda m: str(m["ts"])),
                "views": server.open_views(user=user),
                **around,
            }
        )

    async def message(request: web.Request) -> web.Response:
        p = await _body(request)
        user, channel, text = _need(p, "user", "channel", "text")
        users = {u.name.lower(): u.id for u in server.config.users}
        users[server.config.bot.name.lower()] = server.config.bot.user_id
        channels = {c.name.lower(): c.id for c in ws.channels.values()}
        composed = compose_text(text, users=users, channels=channels)
        ts = await server.post_message(
            channel=channel, user=user, text=composed, thread_ts=_optional(p, "thread_ts")
        )
        return web.json_response({"ok": True, "ts": ts})

    async def command(request: web.Request) -> web.Response:
        p = await _body(request)
        user, channel, text = _need(p, "user", "channel", "text")
        name, _, rest = text.strip().partition(" ")
        done = await server.slash_command(
            command=name, user=user, channel=channel, text=rest.strip()
        )
        return web.json_response({"ok": True, "envelope_id": done.envelope_id})

    async def click(request: web.Request) -> web.Response:
        p = await _body(request)
        user, channel, ts = _need(p, "user", "channel", "ts")
        done = await server.click_button(
            channel=channel,
            ts=ts,
            user=user,
            action_id=_optional(p, "action_id"),
            value=_optional(p, "value"),
            block_id=_optional(p, "block_id"),
        )
        return web.json_response({"ok": True, "envelope_id": done.envelope_id})

    async def submit(request: web.Request) -> web.Response:
        p = await _body(request)
        (user,) = _need(p, "user")
        values = p.get("values") or {}
        if not isinstance(values, dict):
            raise ControlError("invalid_argument", "values must be an object")
        done = await server.submit_view(user=user, values=values, view_id=_optional(p, "view_id"))
        return web.json_response({"ok": True, "envelope_id": done.envelope_id})

    async def close_view(request: web.Request) -> web.Response:
        p = await _body(request)
        user, view_id = _need(p, "user", "view_id")
        record = ws.views.get(view_id)
        if record is None or record.user != user:
            raise ControlError("view_not_found", view_id, status=404)
        for view in ws.views.values():
            if view.root_view_id == record.root_view_id:
                view.is_open = False
        return web.json_response({"ok": True})

    async def react(request: web.Request) -> web.Response:
        p = await _body(request)
        user, channel, ts, name = _need(p, "user", "channel", "ts", "name")
        message = server.message(channel=channel, ts=ts) or {}
        mine = any(r["name"] == name and user in r["users"] for r in message.get("reactions", []))
        if not mine:
            await server.add_reaction(channel=channel, ts=ts, user=user, name=name)
        else:
            await apply_reaction(
                server._rt, channel_id=channel, ts=ts, user=user, name=name, added=False
            )
        return web.json_response({"ok": True, "added": not mine})

    async def dismiss(request: web.Request) -> web.Response:
        p = await _body(request)
        user, ts = _need(p, "user", "ts")
        item = ws.find_ephemeral(recipient=user, ts=ts)
        if item is None:
            raise ControlError("message_not_found", ts, status=404)
        item.deleted = True
        return web.json_response({"ok": True})

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

    table: list[tuple[str, str, _Route]] = [
        ("GET", "/ui/", index),
        ("GET", "/ui/{name}", asset),
        ("GET", "/_ui/api/bootstrap", bootstrap),
        ("GET", "/_ui/api/state", state),
        ("POST", "/_ui/api/message", message),
        ("POST", "/_ui/api/command", command),
        ("POST", "/_ui/api/click", click),
        ("POST", "/_ui/api/submit", submit),
        ("POST", "/_ui/api/close_view", close_view),
        ("POST", "/_ui/api/react", react),
        ("POST", "/_ui/api/dismiss", dismiss),
        ("GET", "/_ui/files/{file_id}", file),
        ("GET", "/_ui/events", events),
        *agent_ui_routes(server, need=_need, body=_body, optional=_optional),
    ]
    return [web.route(verb, path, _guard(handler)) for verb, path, handler in table]
