"""HTTP control routes for the AI-app surfaces (all under /_control):

=======  ==================  =====================================================
GET      /status             current thread status: ``channel``, ``thread_ts``
GET      /status/history     status changes, optionally for ``channel``/``thread_ts``
POST     /status/wait        ``channel``, ``thread_ts``, ``status``?, ``cause``?, ``timeout``?
GET      /sessions           agent sessions, optionally for ``channel``/``thread_ts``
POST     /sessions/wait      ``channel``, ``thread_ts``, ``status``, ``timeout``?
POST     /sessions/stop      a person clicks stop: ``user``, ``channel``, ``thread_ts``
GET      /streams            streamed messages, optionally ``channel`` and ``ts``
POST     /streams/wait       ``channel``?, ``thread_ts``?, ``state``?, ``text_contains``?
GET      /home               a person's Home tab: ``user``
POST     /home/open          a person opens the app: ``user``, ``tab`` (home|messages)
POST     /home/click         a button in a Home tab or modal: ``user``, ``view_id``?,
                             ``action_id``?, ``value``?, ``block_id``?
POST     /home/wait          ``user``, ``timeout``?: the Home tab once published
POST     /faults/surface     ``method``, ``error``, ``needed``?: lack a surface for good
=======  ==================  =====================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from aiohttp import web

from localslack.control_http_kit import Route, ok, opt_float, params, required
from localslack.deliveries import Delivery
from localslack.errors import ControlError
from localslack.faults import SURFACE_ERRORS, SurfaceError

if TYPE_CHECKING:
    from localslack.controls import Controls

__all__ = ["agent_routes"]


def _delivery(found: Delivery | None) -> object:
    return None if found is None else found.to_dict(with_payload=True)


def agent_routes(server: Controls) -> list[tuple[str, str, Route]]:
    async def status(request: web.Request) -> web.Response:
        channel, thread_ts = required(await params(request), "channel", "thread_ts")
        return ok(status=server.thread_status(channel=channel, thread_ts=thread_ts))

    async def status_history(request: web.Request) -> web.Response:
        p = await params(request)
        changes = server.status_history(channel=p.get("channel"), thread_ts=p.get("thread_ts"))
        return ok(changes=changes)

    async def status_wait(request: web.Request) -> web.Response:
        p = await params(request)
        channel, thread_ts = required(p, "channel", "thread_ts")
        change = await server.wait_for_status(
            channel=channel,
            thread_ts=thread_ts,
            status=p.get("status"),
            cause=p.get("cause"),
            timeout=opt_float(p.get("timeout")) or 5.0,
        )
        return ok(change=change)

    async def sessions(request: web.Request) -> web.Response:
        p = await params(request)
        found = server.agent_sessions(channel=p.get("channel"))
        thread_ts = p.get("thread_ts")
        return ok(sessions=[s for s in found if thread_ts in (None, s["thread_ts"])])

    async def sessions_wait(request: web.Request) -> web.Response:
        p = await params(request)
        channel, thread_ts, status_ = required(p, "channel", "thread_ts", "status")
        session = await server.wait_for_session_status(
            channel=channel,
            thread_ts=thread_ts,
            status=status_,
            timeout=opt_float(p.get("timeout")) or 5.0,
        )
        return ok(session=session)

    async def sessions_stop(request: web.Request) -> web.Response:
        user, channel, thread_ts = required(await params(request), "user", "channel", "thread_ts")
        found = await server.stop_agent_session(user=user, channel=channel, thread_ts=thread_ts)
        return ok(delivery=_delivery(found))

    async def streams(request: web.Request) -> web.Response:
        p = await params(request)
        found = server.streams(channel=p.get("channel"))
        ts = p.get("ts")
        return ok(streams=[s for s in found if ts in (None, s["ts"])])

    async def streams_wait(request: web.Request) -> web.Response:
        p = await params(request)
        state = p.get("state", "stopped")
        record = await server.wait_for_stream(
            channel=p.get("channel"),
            thread_ts=p.get("thread_ts"),
            state=None if state in ("", "any") else state,
            text_contains=p.get("text_contains"),
            timeout=opt_float(p.get("timeout")) or 5.0,
        )
        return ok(stream=record)

    async def home(request: web.Request) -> web.Response:
        (user,) = required(await params(request), "user")
        return ok(view=server.home_view(user=user))

    async def home_open(request: web.Request) -> web.Response:
        p = await params(request)
        (user,) = required(p, "user")
        found = await server.open_app_home(user=user, tab=p.get("tab") or "home")
        return ok(delivery=_delivery(found))

    async def home_click(request: web.Request) -> web.Response:
        p = await params(request)
        (user,) = required(p, "user")
        done = await server.click_view_button(
            user=user,
            view_id=p.get("view_id"),
            action_id=p.get("action_id"),
            value=p.get("value"),
            block_id=p.get("block_id"),
        )
        return ok(**done.to_dict())

    async def home_wait(request: web.Request) -> web.Response:
        p = await params(request)
        (user,) = required(p, "user")
        view = await server.wait_for_home_view(
            user=user, timeout=opt_float(p.get("timeout")) or 5.0
        )
        return ok(view=view)

    async def surface(request: web.Request) -> web.Response:
        p = await params(request)
        method, error = required(p, "method", "error")
        if error not in SURFACE_ERRORS:
            raise ControlError("invalid_argument", f"error is one of {', '.join(SURFACE_ERRORS)}")
        fault = server.lack_surface(
            method=method, error=cast(SurfaceError, error), needed=p.get("needed")
        )
        return ok(fault=fault.to_dict())

    return [
        ("GET", "/status", status),
        ("GET", "/status/history", status_history),
        ("GET", "/status/wait", status_wait),
        ("POST", "/status/wait", status_wait),
        ("GET", "/sessions", sessions),
        ("POST", "/sessions/wait", sessions_wait),
        ("POST", "/sessions/stop", sessions_stop),
        ("GET", "/streams", streams),
        ("GET", "/streams/wait", streams_wait),
        ("POST", "/streams/wait", streams_wait),
        ("GET", "/home", home),
        ("POST", "/home/open", home_open),
        ("POST", "/home/click", home_click),
        ("POST", "/home/wait", home_wait),
        ("POST", "/faults/surface", surface),
    ]
