"""conversations.* methods: reading (history, replies, info, members) and opening a DM.

Reading takes the scope of the conversation's kind (channels:, groups:, mpim: or im:history;
channels:, groups:, mpim: or im:read for info and members). Message metadata comes back without its
``event_payload`` unless ``include_all_metadata`` is true (see metadata.py)."""

from __future__ import annotations

import base64
import copy

from localslack.errors import SlackError
from localslack.metadata import visible_metadata
from localslack.methods_common import (
    history_scope,
    require_channel,
    require_member,
    require_scope,
)
from localslack.records import JSON, Channel
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


def _read_scope(channel: Channel) -> str:
    if channel.is_im:
        return "im:read"
    if channel.is_mpim:
        return "mpim:read"
    return "groups:read" if channel.is_private else "channels:read"


def _shown(rt: Runtime, messages: list[JSON], args: Args) -> list[JSON]:
    include_all = args.flag("include_all_metadata")
    declared = rt.config.declared_metadata_events
    return [visible_metadata(m, include_all=include_all, declared=declared) for m in messages]


async def info(rt: Runtime, req: ApiRequest) -> JSON:
    channel = require_channel(rt, req.args)
    require_scope(rt, _read_scope(channel))
    data = channel.info(viewer=rt.config.bot.user_id)
    if req.args.flag("include_num_members"):
        data["num_members"] = len(channel.members)
    return {"channel": data}


async def replies(rt: Runtime, req: ApiRequest) -> JSON:
    channel = require_channel(rt, req.args)
    require_scope(rt, history_scope(channel))
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
    return _page(_shown(rt, thread, req.args), req.args, default_limit=1000, key="messages")


async def history(rt: Runtime, req: ApiRequest) -> JSON:
    channel = require_channel(rt, req.args)
    require_scope(rt, history_scope(channel))
    require_member(rt, channel)
    top_level = [
        m
        for m in reversed(rt.workspace.messages(channel.id))
        if m.get("thread_ts") in (None, m["ts"]) and _in_window(m, req.args)
    ]
    return _page(_shown(rt, top_level, req.args), req.args, default_limit=100, key="messages")


async def open_conversation(rt: Runtime, req: ApiRequest) -> JSON:
    """conversations.open for one person: the DM between them and the app. (Group DMs and
    reopening by `channel` are not modelled.)"""
    users = [u for u in (req.args.text("users") or "").split(",") if u]
    if not users:
        raise SlackError("users_list_not_supplied")
    if len(users) > 1:
        raise SlackError("not_implemented", extra={"detail": "localslack opens 1:1 DMs only"})
    if not rt.workspace.is_user(users[0]) or users[0] == rt.config.bot.user_id:
        raise SlackError("user_not_found")
    channel = rt.workspace.channel(users[0])
    if channel is None:
        raise SlackError("user_not_found")
    # Every DM with the app exists from the start, so Slack's "already open" answer applies.
    found = channel.info(viewer=rt.config.bot.user_id) if req.args.flag("return_im") else {}
    return {"no_op": True, "already_open": True, "channel": {"id": channel.id, **found}}


async def members(rt: Runtime, req: ApiRequest) -> JSON:
    channel = require_channel(rt, req.args)
    require_scope(rt, _read_scope(channel))
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
    "conversations.open": Method(open_conversation, scopes=("im:write",)),
}
