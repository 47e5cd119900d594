"""views.open / views.push / views.update (modals) and views.publish (Home tabs, home.py)."""

from __future__ import annotations

from localslack.records import JSON
from localslack.runtime import Runtime
from localslack.webapi import ApiRequest, Method

__all__ = ["METHODS"]


async def open_view(rt: Runtime, req: ApiRequest) -> JSON:
    record = rt.views.open(trigger_id=req.args.text("trigger_id"), view=req.args.get("view"))
    return {"view": record.to_api()}


async def push_view(rt: Runtime, req: ApiRequest) -> JSON:
    record = rt.views.push(trigger_id=req.args.text("trigger_id"), view=req.args.get("view"))
    return {"view": record.to_api()}


async def update_view(rt: Runtime, req: ApiRequest) -> JSON:
    record = rt.views.update(
        view_id=req.args.text("view_id"),
        external_id=req.args.text("external_id"),
        hash=req.args.text("hash"),
        view=req.args.get("view"),
    )
    return {"view": record.to_api()}


async def publish_view(rt: Runtime, req: ApiRequest) -> JSON:
    record = rt.homes.publish(
        user_id=req.args.text("user_id"), view=req.args.get("view"), hash=req.args.text("hash")
    )
    return {"view": record.to_api()}


METHODS: dict[str, Method] = {
    "views.publish": Method(publish_view),
    "views.open": Method(open_view),
    "views.push": Method(push_view),
    "views.update": Method(update_view),
}
