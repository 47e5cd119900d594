"""Web API plumbing: argument merging, token checks, faults, rate limits and the call log."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web

from localslack.errors import SlackError
from localslack.faults import FaultInjector
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


@dataclass(frozen=True)
class ApiCall:
    method: str
    args: JSON
    status: int
    ok: bool
    error: str | None
    at: float

    def to_dict(self) -> JSON:
        return {
            "method": self.method,
            "args": copy.deepcopy(self.args),
            "status": self.status,
            "ok": self.ok,
            "error": self.error,
            "at": self.at,
        }


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
        self.calls: list[ApiCall] = []

    def _token_kind(self, token: str) -> str | None:
        cfg = self._rt.config
        return {cfg.bot_token: "bot", cfg.app_token: "app"}.get(token)

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = {}
        status, body, headers = 200, {}, {}
        try:
            args, token = await merge_args(request)
            body = await self._call(method, args, token, request)
        except SlackError as exc:
            status, body, headers = exc.status, exc.body(), exc.headers
        except Exception:
            # A bug in the fake: answer like a Slack outage and keep the call in the log.
            log.exception("localslack: %s failed", method)
            status, body, headers = 500, {"ok": False, "error": "internal_error"}, {}
        else:
            body = {"ok": True, **body}
            headers = {"x-oauth-scopes": ",".join(self._rt.config.scopes)}
        self.calls.append(
            ApiCall(
                method=method,
                args=copy.deepcopy(args),
                status=status,
                ok=bool(body.get("ok")),
                error=body.get("error"),
                at=self._rt.clock(),
            )
        )
        return web.json_response(body, status=status, headers=headers)

    async def _call(
        self, method: str, args: dict[str, Any], token: str | None, request: web.Request
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
        fault = self.faults.take(method)
        if fault is not None:
            headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
            raise SlackError(fault.error, status=fault.status, headers=headers)
        channel = args.get("channel") or args.get("channel_id")
        retry_after = self.limiter.check(
            method, token=token, channel=channel if isinstance(channel, str) else None
        )
        if retry_after is not None:
            raise SlackError("ratelimited", status=429, headers={"Retry-After": str(retry_after)})
        return await spec.handler(self._rt, ApiRequest(method, Args(args), token, request))
