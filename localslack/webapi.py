"""Web API plumbing: argument merging, token and scope checks, faults, rate limits and the
call log.

A call goes: unknown method, token (`not_authed`, `invalid_auth`, `not_allowed_token_type`),
a held call's wait (holds.py), a scripted fault that fires before the method, scopes (`missing_scope` with `needed` and
`provided`; a method lists the scopes any one of which will do), rate limits, the method,
then a scripted fault that fires after it (the effects stay, the answer is an error or a
dropped connection, or an HTML page, or none: a hang). Each call is logged as an :class:`ApiCall`, including whether the method
took effect (`committed`) and whether the client got an answer at all (`dropped`; a hung
call is logged when it starts to hang, with error ``hung``)."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, NoReturn

from aiohttp import web

from localslack.errors import SlackError
from localslack.faults import Fault, FaultInjector
from localslack.holds import CallHolds
from localslack.ratelimit import RateLimiter
from localslack.records import JSON
from localslack.runtime import Runtime

__all__ = ["ApiCall", "ApiRequest", "Args", "Handler", "Method", "WebApi"]

log = logging.getLogger(__name__)

# Arguments that clients send JSON-encoded when they travel as form fields or query parameters.
_JSON_ARGS = ("blocks", "attachments", "files", "view", "metadata")


class Args:
    """Merged request arguments with Slack's loose typing (everything may arrive as a string)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def get(self, name: str) -> Any:
        return self.data.get(name)

    def text(self, name: str) -> str | None:
        value = self.data.get(name)
        if value is None or value == "":
            return None
        return value if isinstance(value, str) else str(value)

    def flag(self, name: str, *, default: bool = False) -> bool:
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        return str(value).lower() in ("1", "true", "yes")

    def integer(self, name: str, *, default: int) -> int:
        value = self.data.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise SlackError("invalid_arguments") from None


@dataclass(frozen=True)
class ApiRequest:
    method: str
    args: Args
    token: str
    http: web.Request


Handler = Callable[[Runtime, ApiRequest], Awaitable[JSON]]


@dataclass(frozen=True)
class Method:
    handler: Handler
    token: Literal["bot", "app"] = "bot"
    # Any one of these scopes lets the call through; empty means none is needed (or the
    # method checks per conversation type itself).
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ApiCall:
    method: str
    args: JSON
    status: int
    ok: bool
    error: str | None
    at: float
    # The method ran and its effects stay, whatever the client was told.
    committed: bool = False
    # The connection was closed without an answer (status is then 0).
    dropped: bool = False

    def to_dict(self) -> JSON:
        return {
            "method": self.method,
            "args": copy.deepcopy(self.args),
            "status": self.status,
            "ok": self.ok,
            "error": self.error,
            "at": self.at,
            "committed": self.committed,
            "dropped": self.dropped,
        }


class _Dropped(Exception):
    """Abort the connection instead of answering."""


class _Hung(Exception):
    """Answer nothing, for as long as the server runs."""


class _NotSlacks(Exception):
    """Answer 200 with something that is not Slack's JSON: what a proxy in the way sends
    (``garbage``, an HTML page) or a connection closed mid-answer leaves (``cut_short``)."""

    def __init__(self, kind: str, text: str, content_type: str) -> None:
        super().__init__(kind)
        self.kind, self.text, self.content_type = kind, text, content_type


_GARBAGE = "<html><body><h1>502 Bad Gateway</h1></body></html>"


async def merge_args(request: web.Request) -> tuple[dict[str, Any], str | None]:
    """Query string, form body and JSON body merged; returns (args, token)."""
    args: dict[str, Any] = {key: request.query.get(key) for key in request.query}
    if request.body_exists:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise SlackError("invalid_json") from None
            if isinstance(body, dict):
                args.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            args.update({k: v for k, v in form.items() if isinstance(v, str)})
    for key in _JSON_ARGS:
        if isinstance(args.get(key), str):
            try:
                args[key] = json.loads(args[key])
            except ValueError:
                pass  # left as a string: the method reports its own *_format error
    token = args.pop("token", None)
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        token = auth.removeprefix("Bearer ").strip()
    return args, token if isinstance(token, str) and token else None


class WebApi:
    def __init__(
        self,
        *,
        runtime: Runtime,
        methods: dict[str, Method],
        faults: FaultInjector,
        limiter: RateLimiter,
    ) -> None:
        self._rt = runtime
        self._methods = methods
        self.faults = faults
        self.limiter = limiter
        self.holds = CallHolds()
        self.calls: list[ApiCall] = []

    def _token_kind(self, token: str) -> str | None:
        cfg = self._rt.config
        return {cfg.bot_token: "bot", cfg.app_token: "app"}.get(token)

    def scopes_for(self, method: str) -> tuple[str, ...]:
        spec = self._methods.get(method)
        return spec.scopes if spec is not None else ()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        args: dict[str, Any] = {}
        status, body, headers = 200, {}, {}
        progress = {"committed": False}
        try:
            args, token = await merge_args(request)
            body = await self._call(method, args, token, request, progress)
        except _Dropped:
            self._log(method, args, status=0, body={}, progress=progress, dropped=True)
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=500)  # never reaches the client
        except _Hung:
            self._log(method, args, status=0, body={}, progress=progress, dropped=True, hung=True)
            await self.faults.hold()
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=500)  # never reaches the client
        except _NotSlacks as answer:
            self._log(
                method,
                args,
                status=200,
                body={"error": answer.kind},
                progress=progress,
                dropped=False,
            )
            return web.Response(status=200, text=answer.text, content_type=answer.content_type)
        except SlackError as exc:
            status, body, headers = exc.status, exc.body(), exc.headers
        except Exception:
            # A bug in the fake: answer like a Slack outage and keep the call in the log.
            log.exception("localslack: %s failed", method)
            status, body, headers = 500, {"ok": False, "error": "internal_error"}, {}
        else:
            body = {"ok": True, **body}
            headers = {"x-oauth-scopes": ",".join(self._rt.config.scopes)}
        self._log(method, args, status=status, body=body, progress=progress, dropped=False)
        return web.json_response(body, status=status, headers=headers)

    def _log(
        self,
        method: str,
        args: dict[str, Any],
        *,
        status: int,
        body: JSON,
        progress: dict[str, bool],
        dropped: bool,
        hung: bool = False,
    ) -> None:
        error = "hung" if hung else "connection_dropped" if dropped else body.get("error")
        self.calls.append(
            ApiCall(
                method=method,
                args=copy.deepcopy(args),
                status=status,
                ok=bool(body.get("ok")),
                error=error,
                at=self._rt.clock(),
                committed=progress["committed"],
                dropped=dropped,
            )
        )

    async def _call(
        self,
        method: str,
        args: dict[str, Any],
        token: str | None,
        request: web.Request,
        progress: dict[str, bool],
    ) -> JSON:
        spec = self._methods.get(method)
        if spec is None:
            raise SlackError("unknown_method", extra={"req_method": method})
        if token is None:
            raise SlackError("not_authed")
        kind = self._token_kind(token)
        if kind is None:
            raise SlackError("invalid_auth")
        if kind != spec.token:
            raise SlackError("not_allowed_token_type")
        where = args.get("channel") or args.get("channel_id")
        await self.holds.pass_through(
            method, args, channel=where if isinstance(where, str) else None
        )
        fault = self.faults.take(method, channel=where if isinstance(where, str) else None)
        if fault is not None and not fault.after_commit:
            _fire(fault)
        cfg = self._rt.config
        if spec.scopes and not any(scope in cfg.scopes for scope in spec.scopes):
            raise SlackError(
                "missing_scope",
                extra={"needed": spec.scopes[0], "provided": ",".join(cfg.scopes)},
            )
        channel = args.get("channel") or args.get("channel_id")
        retry_after = self.limiter.check(
            method, token=token, channel=channel if isinstance(channel, str) else None
        )
        if retry_after is not None:
            raise SlackError("ratelimited", status=429, headers={"Retry-After": str(retry_after)})
        body = await spec.handler(self._rt, ApiRequest(method, Args(args), token, request))
        progress["committed"] = True
        if fault is not None:
            _fire(fault)
        return body


def _fire(fault: Fault) -> NoReturn:
    if fault.hang:
        raise _Hung
    if fault.drop_connection:
        raise _Dropped
    if fault.garbage:
        raise _NotSlacks("garbage", _GARBAGE, "text/html")
    if fault.cut_short:
        raise _NotSlacks("cut_short", '{"ok": tr', "application/json")
    raise fault.as_error()
