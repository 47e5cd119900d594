"""Requests from other web sites are refused: the browser UI's JSON API and the control API
have no login (in ``signoff dev`` they post as any person and click any button), so a page
on another site open in the same browser must not reach them.

Two ways in are closed. A cross-origin request needs no preflight when it is a "simple"
one (a form, an ``<img>``, ``fetch(…, {mode: "no-cors"})`` with a text body or a query
string), both APIs read JSON whatever its content type, and the Web API takes its token
(LocalSlack's defaults are in its source) from the query string of a GET; a WebSocket (the
Socket Mode link) is a GET too, and CORS does not cover it. So every request whose
``Origin`` is not this server's, or that the browser marks ``Sec-Fetch-Site:
cross-site`` (or ``same-site``), is refused, whatever its method, unless it is a link
followed to a page: a top-level navigation (``Sec-Fetch-Mode: navigate``, ``Sec-Fetch-Dest:
document``) with GET or HEAD, outside the Web API. A frame is no such navigation (a page
framed elsewhere can be clicked through). And DNS rebinding, a name of the attacker's that
resolves to 127.0.0.1, makes the page same-origin with this server: a server bound to
loopback answers only to loopback names. Clients that are no browser (slack_sdk, Bolt,
tests) send none of these headers and are not affected.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable

from aiohttp import web
from yarl import URL

__all__ = ["no_framing", "origin_guard"]

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_ELSEWHERE = ("cross-site", "same-site")
_LOOPBACK_NAMES = ("localhost",)
_LOOPBACK_ONLY = (
    "Listening on loopback, this server answers only to loopback names (localhost, "
    "127.0.0.1): another name that leads here may be a DNS rebinding attack. To serve it "
    "under another name (a forwarded port), listen on an address that is not loopback "
    "(--host)."
)


def _loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_name(request: web.Request) -> str | None:
    try:
        return URL(f"http://{request.host}").host
    except ValueError:
        return None


def _site(url: str) -> tuple[str, str, int | None] | None:
    """(scheme, host, port) as a browser compares origins: case and a default port aside."""
    try:
        parsed = URL(url)
    except ValueError:
        return None
    host = parsed.host
    return None if host is None else (parsed.scheme.lower(), host.lower(), parsed.port)


def _from_another_site(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is not None and _site(origin) != _site(f"{request.scheme}://{request.host}"):
        return True
    return request.headers.get("Sec-Fetch-Site", "").lower() in _ELSEWHERE


def _opens_a_page(request: web.Request) -> bool:
    """A link followed from elsewhere: it shows a page, and a GET of a page changes nothing."""
    return (
        request.method in ("GET", "HEAD")
        and request.headers.get("Sec-Fetch-Mode", "").lower() == "navigate"
        and request.headers.get("Sec-Fetch-Dest", "").lower() == "document"
        and not request.path.startswith("/api/")
    )


def origin_guard(bound_host: str) -> Callable[..., Awaitable[web.StreamResponse]]:
    """The middleware for a server listening on ``bound_host``."""
    loopback_only = _loopback(bound_host)

    @web.middleware
    async def guard(request: web.Request, handler: _Handler) -> web.StreamResponse:
        if loopback_only:
            name = _host_name(request)
            if name is None or not _loopback(name):
                raise web.HTTPForbidden(text=_LOOPBACK_ONLY)
        if _from_another_site(request) and not _opens_a_page(request):
            raise web.HTTPForbidden(text="a request from another site")
        return await handler(request)

    return guard


async def no_framing(request: web.Request, response: web.StreamResponse) -> None:
    """For ``on_response_prepare``: no page of it in another site's frame, where a click
    meant for that site lands on Approve. A browser that sends ``Sec-Fetch-Dest`` has its
    frame refused by the guard already; these headers cover the others."""
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
