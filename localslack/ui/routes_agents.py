"""The page's App Home and agent actions: open the app's Home or Messages tab (the app hears
``app_home_opened``), read the Home tab, click its buttons, and stop an agent session; and
join or leave a user group (the app hears ``subteam_members_changed``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from localslack.control_http_kit import json_body
from localslack.errors import ControlError
from localslack.ui.params import need, optional

if TYPE_CHECKING:
    from localslack.server import LocalSlack

__all__ = ["agent_ui_routes"]

_Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


def agent_ui_routes(server: LocalSlack) -> list[tuple[str, str, _Route]]:
    async def home(request: web.Request) -> web.Response:
        (user,) = need(dict(request.query), "user")
        if user not in server.workspace.users:
            raise ControlError("user_not_found", user, status=404)
        return web.json_response({"ok": True, "view": server.home_view(user=user)})

    async def opened(request: web.Request) -> web.Response:
        p = await json_body(request)
        user, tab = need(p, "user", "tab")
        if tab not in ("home", "messages"):
            raise ControlError("invalid_tab", tab)
        delivery = await server.open_app_home(
            user=user, tab="home" if tab == "home" else "messages"
        )
        return web.json_response({"ok": True, "sent": delivery is not None})

    async def click_view(request: web.Request) -> web.Response:
        p = await json_body(request)
        (user,) = need(p, "user")
        done = await server.click_view_button(
            user=user,
            view_id=optional(p, "view_id"),
            action_id=optional(p, "action_id"),
            value=optional(p, "value"),
            block_id=optional(p, "block_id"),
        )
        return web.json_response({"ok": True, "envelope_id": done.envelope_id})

    async def stop_session(request: web.Request) -> web.Response:
        p = await json_body(request)
        user, channel, thread_ts = need(p, "user", "channel", "thread_ts")
        await server.stop_agent_session(user=user, channel=channel, thread_ts=thread_ts)
        return web.json_response({"ok": True})

    async def group_members(request: web.Request) -> web.Response:
        # One person joins or leaves, against the members as they are now: the whole list
        # the page drew may be stale, and sending it undid changes made since.
        p = await json_body(request)
        group, user = need(p, "group", "user")
        if not isinstance(p.get("join"), bool):
            raise ControlError("missing_argument", "join: true to join, false to leave")
        current = server.workspace.groups.get(group)
        if current is None:
            raise ControlError("no_such_subteam", group, status=404)
        others = [u for u in current.members if u != user]
        users = [*others, user] if p["join"] else others
        done = await server.change_group_members(group=group, users=users)
        members = list(server.workspace.groups[group].members)
        return web.json_response({"ok": True, "members": members, "sent": bool(done.delivery)})

    return [
        ("GET", "/_ui/api/home", home),
        ("POST", "/_ui/api/group_members", group_members),
        ("POST", "/_ui/api/home_opened", opened),
        ("POST", "/_ui/api/click_view", click_view),
        ("POST", "/_ui/api/stop_session", stop_session),
    ]
