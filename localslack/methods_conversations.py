"""conversations.* read methods."""

from __future__ import annotations

import base64
import copy

from localslack.errors import SlackError
from localslack.methods_common import require_channel, require_member
from localslack.records import JSON
from localslack.runtime import Runtime
from localslack.webapi import ApiRequest, Args, Method

__all__ = ["METHODS"]


def _page(items: list[JSON], args: Args, *, default_limit: int, key: str) -> JSON:
    """Cursor pagination; cursors are opaque to clients, here a base64 offset."""
    limit = max(1, min(args.integer("limit", default=default_limit), 1000))
    cursor = args.text("cursor")
    start = 0
    if cursor:
        try:
            start = int(base64.b64decode(cursor).decode().removeprefix("next_ts:"))
        except ValueError:
            raise SlackError("invalid_cursor") from None
    chunk = items[start : start + limit]
    more = start + limit < len(items)
    next_cursor = base64.b64encode(f"next_ts:{start + limit}".encode()).decode() if more else ""
    return {
        key: copy.deepcopy(chunk),
        "has_more": more,
        "response_metadata": {"next_cursor": next_cursor},
    }


def _bound(args: Args, name: str) -> float | None:
    value = args.text(name)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise SlackError(f"invalid_ts_{name}") from None


def _in_window(message: JSON, args: Args) -> bool:
    oldest, latest = _bound(args, "oldest"), _bound(args, "latest")
    inclusive = args.flag("inclusive")
    ts = float(message["ts"])
    if oldest is not None and (ts < oldest or (ts == oldest and not inclusive)):
        return False
    return latest is None or ts < latest or (ts == latest and inclusive)


async def info(rt: Runtime, req: ApiRequest) -> JSON:
    channel = require_channel(rt, req.args)
    data = channel.info(viewer=rt.config.bot.user_id)
    if req.args.flag("include_num_members"):
        data["num_members"] = len(channel.members)
    return {"channel": data}


async def replies(rt: Runtime, req: ApiRequest) -> JSON:
    channel = require_channel(rt, req.args)
    require_member(rt, channel)
    ts = req.args.text("ts")
    if ts is None:
        raise SlackError("invalid_arguments")
    # `ts` may name the parent or any reply; either way the whole thread comes back.
    parent = rt.workspace.thread_parent(channel.id, ts)
    if parent is None:
        raise SlackError("thread_not_found")
    thread = [parent, *rt.workspace.replies(channel.id, parent["ts"])]
    thread = [m for m in thread if m is parent or _in_window(m, req.args)]
    return _page(thread, req.args, default_limit=1000, key="messages")


async def history(rt: Runtime, req: ApiRequest) -> JSON:
    channel = require_channel(rt, req.args)
    require_member(rt, channel)
    top_level = [
        m
        for m in reversed(rt.workspace.messages(channel.id))
        if m.get("thread_ts") in (None, m["ts"]) and _in_window(m, req.args)
    ]
    return _page(top_level, req.args, default_limit=100, key="messages")


async def members(rt: Runtime, req: ApiRequest) -> JSON:
    channel = require_channel(rt, req.args)
    everyone = [{"id": uid} for uid in sorted(channel.members)]
    page = _page(everyone, req.args, default_limit=100, key="members")
    page["members"] = [m["id"] for m in page["members"]]
    page.pop("has_more")
    return page


METHODS: dict[str, Method] = {
    "conversations.info": Method(info),
    "conversations.replies": Method(replies),
    "conversations.history": Method(history),
    "conversations.members": Method(members),
}
