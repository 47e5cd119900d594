"""HTTP control routes for seeded chaos (all under /_control/chaos):

=======  ===================  ================================================
POST     /chaos/duplicates    ``seed``, ``max_copies``? (3): every new event k times
DELETE   /chaos/duplicates    stop duplicating
POST     /chaos/drops         ``seed``, ``probability``? (per envelope),
                              ``interval``? ([low, high] seconds between drops)
DELETE   /chaos/drops         stop dropping sockets
GET      /chaos/events        what chaos did, optionally of one ``kind``
=======  ===================  ================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from localslack.control_http_kit import Route, ok, opt_float, opt_int, params
from localslack.errors import ControlError

if TYPE_CHECKING:
    from localslack.controls import Controls

__all__ = ["chaos_routes"]


def _seed(found: dict[str, Any]) -> int:
    seed = opt_int(found.get("seed"))
    if seed is None:
        raise ControlError("missing_argument", "seed")
    return seed


def _interval(value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 2:
        raise ControlError("invalid_argument", "interval is [low, high] in seconds")
    low, high = (opt_float(v) for v in value)
    if low is None or high is None:
        raise ControlError("invalid_argument", "interval is [low, high] in seconds")
    return low, high


def chaos_routes(server: Controls) -> list[tuple[str, str, Route]]:
    async def duplicates(request: web.Request) -> web.Response:
        p = await params(request)
        server.duplicate_events(seed=_seed(p), max_copies=opt_int(p.get("max_copies")) or 3)
        return ok()

    async def stop_duplicates(request: web.Request) -> web.Response:
        server.stop_duplicate_events()
        return ok()

    async def drops(request: web.Request) -> web.Response:
        p = await params(request)
        server.drop_sockets_randomly(
            seed=_seed(p),
            probability=opt_float(p.get("probability")) or 0.0,
            interval=_interval(p.get("interval")),
        )
        return ok()

    async def stop_drops(request: web.Request) -> web.Response:
        server.stop_dropping_sockets()
        return ok()

    async def events(request: web.Request) -> web.Response:
        kind = (await params(request)).get("kind")
        return ok(events=[e.to_dict() for e in server.chaos_events(kind=kind)])

    return [
        ("POST", "/chaos/duplicates", duplicates),
        ("DELETE", "/chaos/duplicates", stop_duplicates),
        ("POST", "/chaos/drops", drops),
        ("DELETE", "/chaos/drops", stop_drops),
        ("GET", "/chaos/events", events),
    ]
