"""The browser UI's HTTP side: a JSON API under /_ui/api/ for what the page shows and does.
Every action goes through the same control methods tests use; the App Home and
agent-session actions are in routes_agents.py, the page's files and its change stream in
page.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from localslack.changes import ChangeFeed
from localslack.control_http_kit import json_body
from localslack.errors import ControlError, SlackError
from localslack.methods_reactions import apply_reaction
from localslack.records import JSON
from localslack.ui.decorate import surfaces
from localslack.ui.options import UiOptions, compose_text
from localslack.ui.page import page_routes
from localslack.ui.params import need, optional
from localslack.ui.routes_agents import agent_ui_routes

if TYPE_CHECKING:
    from localslack.server import LocalSlack

__all__ = ["ui_routes"]

_Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


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

    async def bootstrap(request: web.Request) -> web.Response:
        return web.json_response(bootstrap_data())

    async def state(request: web.Request) -> web.Response:
        q = request.query
        user, channel = need(dict(q), "user", "channel")
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
        p = await json_body(request)
        user, channel, text = need(p, "user", "channel", "text")
        users = {u.name.lower(): u.id for u in server.config.users}
        users[server.config.bot.name.lower()] = server.config.bot.user_id
        channels = {c.name.lower(): c.id for c in ws.channels.values()}
        composed = compose_text(text, users=users, channels=channels)
        ts = await server.post_message(
            channel=channel, user=user, text=composed, thread_ts=optional(p, "thread_ts")
        )
        return web.json_response({"ok": True, "ts": ts})

    async def command(request: web.Request) -> web.Response:
        p = await json_body(request)
        user, channel, text = need(p, "user", "channel", "text")
        name, _, rest = text.strip().partition(" ")
        done = await server.slash_command(
            command=name, user=user, channel=channel, text=rest.strip()
        )
        return web.json_response({"ok": True, "envelope_id": done.envelope_id})

    async def click(request: web.Request) -> web.Response:
        p = await json_body(request)
        user, channel, ts = need(p, "user", "channel", "ts")
        done = await server.click_button(
            channel=channel,
            ts=ts,
            user=user,
            action_id=optional(p, "action_id"),
            value=optional(p, "value"),
            block_id=optional(p, "block_id"),
        )
        return web.json_response({"ok": True, "envelope_id": done.envelope_id})

    async def submit(request: web.Request) -> web.Response:
        p = await json_body(request)
        (user,) = need(p, "user")
        values = p.get("values") or {}
        if not isinstance(values, dict):
            raise ControlError("invalid_argument", "values must be an object")
        done = await server.submit_view(user=user, values=values, view_id=optional(p, "view_id"))
        return web.json_response({"ok": True, "envelope_id": done.envelope_id})

    async def close_view(request: web.Request) -> web.Response:
        p = await json_body(request)
        user, view_id = need(p, "user", "view_id")
        record = ws.views.get(view_id)
        if record is None or record.user != user:
            raise ControlError("view_not_found", view_id, status=404)
        for view in ws.views.values():
            if view.root_view_id == record.root_view_id:
                view.is_open = False
        return web.json_response({"ok": True})

    async def react(request: web.Request) -> web.Response:
        p = await json_body(request)
        user, channel, ts, name = need(p, "user", "channel", "ts", "name")
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
        p = await json_body(request)
        user, ts = need(p, "user", "ts")
        item = ws.find_ephemeral(recipient=user, ts=ts)
        if item is None:
            raise ControlError("message_not_found", ts, status=404)
        item.deleted = True
        return web.json_response({"ok": True})

    table: list[tuple[str, str, _Route]] = [
        ("GET", "/_ui/api/bootstrap", bootstrap),
        ("GET", "/_ui/api/state", state),
        ("POST", "/_ui/api/message", message),
        ("POST", "/_ui/api/command", command),
        ("POST", "/_ui/api/click", click),
        ("POST", "/_ui/api/submit", submit),
        ("POST", "/_ui/api/close_view", close_view),
        ("POST", "/_ui/api/react", react),
        ("POST", "/_ui/api/dismiss", dismiss),
        *page_routes(ws, feed),
        *agent_ui_routes(server),
    ]
    return [web.route(verb, path, _guard(handler)) for verb, path, handler in table]
