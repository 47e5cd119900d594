"""chat.* methods (the streaming ones are in methods_stream.py)."""

from __future__ import annotations

from localslack.errors import SlackError
from localslack.metadata import parse_metadata, visible_metadata
from localslack.methods_common import (
    content,
    require_channel,
    require_member,
    require_writable,
)
from localslack.records import JSON
from localslack.runtime import Runtime
from localslack.webapi import ApiRequest, Method

__all__ = ["METHODS", "shown"]


def shown(rt: Runtime, message: JSON) -> JSON:
    """A message as a chat.* response carries it (metadata without its payload)."""
    return visible_metadata(message, include_all=False, declared=rt.config.declared_metadata_events)


async def post_message(rt: Runtime, req: ApiRequest) -> JSON:
    channel = require_channel(rt, req.args)
    require_member(rt, channel, posting=True)
    require_writable(channel)
    body = content(req.args)
    metadata = parse_metadata(req.args.get("metadata"))
    message = await rt.messages.post_bot(
        channel,
        text=body.text,
        blocks=body.blocks,
        attachments=body.attachments,
        thread_ts=req.args.text("thread_ts"),
        extra={"metadata": metadata} if metadata is not None else None,
    )
    return {"channel": channel.id, "ts": message["ts"], "message": shown(rt, message)}


def _own_message(rt: Runtime, channel_id: str, ts: str | None, *, denied: str) -> JSON:
    message = rt.workspace.get(channel_id, ts or "")
    if message is None:
        raise SlackError("message_not_found")
    if message.get("bot_id") != rt.config.bot.bot_id:
        raise SlackError(denied)
    return message


async def update(rt: Runtime, req: ApiRequest) -> JSON:
    channel = require_channel(rt, req.args)
    ts = req.args.text("ts")
    _own_message(rt, channel.id, ts, denied="cant_update_message")
    require_writable(channel, updating=True)
    body = content(req.args)
    message = await rt.messages.update(
        channel,
        ts or "",
        text=body.text,
        blocks=body.blocks,
        attachments=body.attachments,
        metadata=parse_metadata(req.args.get("metadata")),
    )
    return {
        "channel": channel.id,
        "ts": message["ts"],
        "text": message.get("text", ""),
        "message": shown(rt, message),
    }


async def delete(rt: Runtime, req: ApiRequest) -> JSON:
    channel = require_channel(rt, req.args)
    ts = req.args.text("ts")
    _own_message(rt, channel.id, ts, denied="cant_delete_message")
    await rt.messages.delete(channel, ts or "")
    return {"channel": channel.id, "ts": ts}


async def post_ephemeral(rt: Runtime, req: ApiRequest) -> JSON:
    channel = require_channel(rt, req.args)
    require_member(rt, channel, posting=True)
    require_writable(channel)
    user = req.args.text("user")
    if user is None or user not in rt.workspace.users:
        raise SlackError("user_not_found")
    if user not in channel.members:
        raise SlackError("user_not_in_channel")
    body = content(req.args)
    thread_ts = req.args.text("thread_ts")
    if thread_ts:
        rt.messages.resolve_thread(channel, thread_ts)
    item = rt.messages.post_ephemeral(
        channel,
        recipient=user,
        text=body.text,
        blocks=body.blocks,
        attachments=body.attachments,
        thread_ts=thread_ts,
    )
    return {"message_ts": item.ts}


async def get_permalink(rt: Runtime, req: ApiRequest) -> JSON:
    channel = require_channel(rt, req.args)
    ts = req.args.text("message_ts") or ""
    message = rt.workspace.get(channel.id, ts)
    if message is None:
        raise SlackError("message_not_found")
    link = f"{rt.base_url}/archives/{channel.id}/p{ts.replace('.', '')}"
    parent = message.get("thread_ts")
    if parent and parent != ts:
        link += f"?thread_ts={parent}&cid={channel.id}"
    return {"channel": channel.id, "permalink": link}


METHODS: dict[str, Method] = {
    "chat.postMessage": Method(post_message, scopes=("chat:write",)),
    "chat.update": Method(update, scopes=("chat:write",)),
    "chat.delete": Method(delete, scopes=("chat:write",)),
    "chat.postEphemeral": Method(post_ephemeral, scopes=("chat:write",)),
    "chat.getPermalink": Method(get_permalink),
}
