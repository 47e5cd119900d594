"""Shared plumbing of the HTTP control routes: reading parameters (query string merged with
a JSON body), required ones, and turning control errors, Slack errors, timeouts and bad
values into JSON answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from localslack.errors import ControlError, SlackError

__all__ = [
    "Route",
    "guard",
    "id_list",
    "json_body",
    "ok",
    "opt_bool",
    "opt_float",
    "opt_int",
    "params",
    "required",
]

Route = Callable[[web.Request], Awaitable[web.StreamResponse]]

# The parameters that carry structure. Every other one is a text, a number or a flag: a
# list or an object there reached a dict look-up (an unhashable key) and crashed the route.
_STRUCTURED = frozenset({"values", "payload", "users", "interval"})


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON body, which must be an object; else a 400 saying so."""
    try:
        body = await request.json()
    except ValueError:
        raise ControlError("invalid_json") from None
    if not isinstance(body, dict):
        raise ControlError("invalid_json", "expected an object")
    return body


async def params(request: web.Request) -> dict[str, Any]:
    found: dict[str, Any] = {key: request.query.get(key) for key in request.query}
    if request.body_exists:
        found.update(await json_body(request))
    for name, value in found.items():
        if name not in _STRUCTURED and isinstance(value, dict | list):
            raise ControlError("invalid_argument", f"{name} is a text, a number or a flag")
    if not isinstance(found.get("values") or {}, dict):
        raise ControlError("invalid_argument", "values: an object of block ids")
    return found


def opt_bool(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true", "yes")


def opt_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ControlError("invalid_argument", f"{value!r} is not a whole number") from None


def opt_float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ControlError("invalid_argument", f"{value!r} is not a number") from None


def required(found: dict[str, Any], *names: str) -> list[str]:
    missing = [n for n in names if not found.get(n)]
    if missing:
        raise ControlError("missing_argument", ", ".join(missing))
    return [str(found[n]) for n in names]


def id_list(found: dict[str, Any], name: str, *, what: str) -> list[str]:
    """``found[name]``, a JSON list of ids (``what`` they are, for the error)."""
    value = found.get(name)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ControlError("missing_argument", f"{name}: {what}, a list of ids")
    return value


def ok(**data: Any) -> web.Response:
    return web.json_response({"ok": True, **data})


def guard(handler: Route) -> Route:
    async def guarded(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ControlError as exc:
            body = {"ok": False, "error": exc.code, "detail": exc.detail}
            return web.json_response(body, status=exc.status)
        except SlackError as exc:
            return web.json_response(exc.body(), status=400)
        except TimeoutError:
            return web.json_response({"ok": False, "error": "timeout"}, status=408)
        except ValueError as exc:  # a control refusing a value (a probability of 2, say)
            body = {"ok": False, "error": "invalid_argument", "detail": str(exc)}
            return web.json_response(body, status=400)

    return guarded
