"""HTTP control API under /_control/: the in-process Controls methods, as JSON over HTTP
(the AI-app surfaces are in control_http_agents.py, chaos in control_http_chaos.py)."""

from __future__ import annotations

from aiohttp import web

from localslack.control_http_agents import agent_routes
from localslack.control_http_chaos import chaos_routes
from localslack.control_http_kit import Route as _Route
from localslack.control_http_kit import guard as _guard
from localslack.control_http_kit import id_list, opt_int
from localslack.control_http_kit import ok as _ok
from localslack.control_http_kit import opt_bool as _opt_bool
from localslack.control_http_kit import params as _params
from localslack.control_http_kit import required as _required
from localslack.controls import Controls
from localslack.errors import ControlError

__all__ = ["control_routes"]


def control_routes(server: Controls) -> list[web.RouteDef]:
    async def describe(request: web.Request) -> web.Response:
        return _ok(**server.describe())

    async def post_message(request: web.Request) -> web.Response:
        p = await _params(request)
        channel, user, text = _required(p, "channel", "user", "text")
        ts = await server.post_message(
            channel=channel,
            user=user,
            text=text,
            thread_ts=p.get("thread_ts"),
            escape=_opt_bool(p.get("escape")) is not False,
        )
        return _ok(channel=channel, ts=ts)

    async def edit_message(request: web.Request) -> web.Response:
        channel, user, ts, text = _required(await _params(request), "channel", "user", "ts", "text")
        await server.edit_message(channel=channel, user=user, ts=ts, text=text)
        return _ok(channel=channel, ts=ts)

    async def delete_message(request: web.Request) -> web.Response:
        channel, user, ts = _required(await _params(request), "channel", "user", "ts")
        await server.delete_message(channel=channel, user=user, ts=ts)
        return _ok(channel=channel, ts=ts)

    async def list_messages(request: web.Request) -> web.Response:
        (channel,) = _required(await _params(request), "channel")
        return _ok(messages=server.messages(channel=channel))

    async def wait_message(request: web.Request) -> web.Response:
        p = await _params(request)
        message = await server.wait_for_message(
            timeout=float(p.get("timeout") or 5.0),
            channel=p.get("channel"),
            thread_ts=p.get("thread_ts"),
            text_contains=p.get("text_contains"),
            from_bot=_opt_bool(p.get("from_bot")),
            user=p.get("user"),
            after_ts=p.get("after_ts"),
        )
        return _ok(message=message)

    async def thread(request: web.Request) -> web.Response:
        channel, ts = _required(await _params(request), "channel", "ts")
        return _ok(messages=server.thread(channel=channel, ts=ts))

    async def react(request: web.Request) -> web.Response:
        p = await _params(request)
        channel, ts, user, name = _required(p, "channel", "ts", "user", "name")
        await server.add_reaction(channel=channel, ts=ts, user=user, name=name)
        return _ok()

    async def ephemeral(request: web.Request) -> web.Response:
        p = await _params(request)
        (user,) = _required(p, "user")
        return _ok(messages=server.ephemeral_messages(user=user, channel=p.get("channel")))

    async def wait_ephemeral(request: web.Request) -> web.Response:
        p = await _params(request)
        message = await server.wait_for_ephemeral(
            user=p.get("user"),
            text_contains=p.get("text_contains"),
            timeout=float(p.get("timeout") or 5.0),
        )
        return _ok(message=message)

    async def click(request: web.Request) -> web.Response:
        p = await _params(request)
        channel, ts, user = _required(p, "channel", "ts", "user")
        done = await server.click_button(
            channel=channel,
            ts=ts,
            user=user,
            action_id=p.get("action_id"),
            value=p.get("value"),
            block_id=p.get("block_id"),
        )
        return _ok(**done.to_dict())

    async def submit(request: web.Request) -> web.Response:
        p = await _params(request)
        (user,) = _required(p, "user")
        done = await server.submit_view(
            user=user,
            values=p.get("values") or {},
            view_id=p.get("view_id"),
            callback_id=p.get("callback_id"),
        )
        return _ok(**done.to_dict())

    async def views(request: web.Request) -> web.Response:
        return _ok(views=server.open_views(user=(await _params(request)).get("user")))

    async def command(request: web.Request) -> web.Response:
        p = await _params(request)
        name, user, channel = _required(p, "command", "user", "channel")
        done = await server.slash_command(
            command=name, user=user, channel=channel, text=str(p.get("text") or "")
        )
        return _ok(**done.to_dict())

    async def envelope(request: web.Request) -> web.Response:
        p = await _params(request)
        (kind,) = _required(p, "type")
        if "payload" not in p:
            raise ControlError("missing_argument", "payload")
        event_id = p.get("event_id")
        done = await server.send_envelope(
            type=kind,
            payload=p["payload"],
            accepts_response_payload=_opt_bool(p.get("accepts_response_payload")),
            event_id=None if event_id is None else str(event_id),
        )
        return _ok(delivery=done.to_dict())

    async def group_members(request: web.Request) -> web.Response:
        p = await _params(request)
        (group,) = _required(p, "group")
        users = id_list(p, "users", what="the group's members")
        done = await server.change_group_members(group=group, users=users)
        delivery = None if done.delivery is None else done.delivery.to_dict()
        return _ok(added=list(done.added), removed=list(done.removed), delivery=delivery)

    async def calls(request: web.Request) -> web.Response:
        method = (await _params(request)).get("method")
        return _ok(calls=[c.to_dict() for c in server.calls(method)])

    async def clear_calls(request: web.Request) -> web.Response:
        server.clear_calls()
        return _ok()

    async def deliveries(request: web.Request) -> web.Response:
        p = await _params(request)
        with_payload = bool(_opt_bool(p.get("payload")))
        found = server.deliveries(type=p.get("type"), kind=p.get("kind"))
        return _ok(deliveries=[d.to_dict(with_payload=with_payload) for d in found])

    async def add_fault(request: web.Request) -> web.Response:
        p = await _params(request)
        (method,) = _required(p, "method")
        # "count": null (or "always": true) means every call, until cleared.
        always = _opt_bool(p.get("always")) or ("count" in p and p["count"] is None)
        fault = server.inject_fault(
            method=method,
            error=p.get("error"),
            count=None if always else (opt_int(p.get("count")) or 1),
            status=opt_int(p.get("status")) or 200,
            retry_after=opt_int(p.get("retry_after")),
            after_commit=bool(_opt_bool(p.get("after_commit"))),
            drop_connection=bool(_opt_bool(p.get("drop_connection"))),
            channel=p.get("channel"),
            garbage=bool(_opt_bool(p.get("garbage"))),
            cut_short=bool(_opt_bool(p.get("cut_short"))),
            hang=bool(_opt_bool(p.get("hang"))),
        )
        return _ok(fault=fault.to_dict())

    async def list_faults(request: web.Request) -> web.Response:
        return _ok(faults=[f.to_dict() for f in server.pending_faults()])

    async def clear_faults(request: web.Request) -> web.Response:
        server.clear_faults()
        return _ok()

    async def rate_limits(request: web.Request) -> web.Response:
        enabled = _opt_bool((await _params(request)).get("enabled"))
        server.set_rate_limits(enabled=bool(enabled))
        return _ok(enabled=bool(enabled))

    async def sockets(request: web.Request) -> web.Response:
        return _ok(sockets=server.sockets())

    async def disconnect(request: web.Request) -> web.Response:
        p = await _params(request)
        close_after = p.get("close_after")
        ids = await server.disconnect_sockets(
            reason=str(p.get("reason") or "refresh_requested"),
            socket_id=p.get("socket_id"),
            close_after=None if close_after is None else float(close_after),
        )
        return _ok(sockets=ids)

    async def socket_mode(request: web.Request) -> web.Response:
        enabled = _opt_bool((await _params(request)).get("enabled")) is not False
        return _ok(enabled=enabled, sockets=await server.set_socket_mode(enabled=enabled))

    async def drop(request: web.Request) -> web.Response:
        return _ok(sockets=server.drop_sockets(socket_id=(await _params(request)).get("socket_id")))

    async def pings(request: web.Request) -> web.Response:
        enabled = _opt_bool((await _params(request)).get("enabled"))
        server.answer_pings(enabled=enabled is not False)
        return _ok()

    async def files(request: web.Request) -> web.Response:
        return _ok(files=server.files())

    async def file_content(request: web.Request) -> web.Response:
        data = server.file_content(request.match_info["file_id"])
        return web.Response(body=data, content_type="application/octet-stream")

    table: list[tuple[str, str, _Route]] = [
        ("GET", "", describe),
        ("POST", "/messages", post_message),
        ("GET", "/messages", list_messages),
        ("POST", "/messages/edit", edit_message),
        ("POST", "/messages/delete", delete_message),
        ("GET", "/messages/wait", wait_message),
        ("POST", "/messages/wait", wait_message),
        ("GET", "/thread", thread),
        ("POST", "/reactions", react),
        ("GET", "/ephemeral", ephemeral),
        ("GET", "/ephemeral/wait", wait_ephemeral),
        ("POST", "/click", click),
        ("POST", "/views/submit", submit),
        ("GET", "/views", views),
        ("POST", "/commands", command),
        ("POST", "/envelopes", envelope),
        ("POST", "/groups/members", group_members),
        ("GET", "/calls", calls),
        ("DELETE", "/calls", clear_calls),
        ("GET", "/deliveries", deliveries),
        ("POST", "/faults", add_fault),
        ("GET", "/faults", list_faults),
        ("DELETE", "/faults", clear_faults),
        ("POST", "/ratelimits", rate_limits),
        ("GET", "/sockets", sockets),
        ("POST", "/sockets/disconnect", disconnect),
        ("POST", "/sockets/drop", drop),
        ("POST", "/sockets/pings", pings),
        ("POST", "/app/socket_mode", socket_mode),
        ("GET", "/files", files),
        ("GET", "/files/{file_id}", file_content),
    ]
    table += agent_routes(server) + chaos_routes(server)
    return [web.route(verb, f"/_control{path}", _guard(handler)) for verb, path, handler in table]
