"""reactions.add / reactions.remove."""

from __future__ import annotations

from localslack.errors import SlackError
from localslack.methods_common import require_channel
from localslack.records import JSON
from localslack.runtime import Runtime
from localslack.webapi import ApiRequest, Method

__all__ = ["METHODS", "apply_reaction"]


async def apply_reaction(
    rt: Runtime, *, channel_id: str, ts: str, user: str, name: str, added: bool
) -> None:
    """Shared by the Web API (as the bot) and the control API (as a human)."""
    channel = rt.workspace.channels[channel_id]
    message = rt.workspace.get(channel_id, ts)
    if message is None:
        raise SlackError("message_not_found")
    reactions: list[JSON] = message.setdefault("reactions", [])
    entry = next((r for r in reactions if r["name"] == name), None)
    if added:
        if entry is not None and user in entry["users"]:
            raise SlackError("already_reacted")
        if entry is None:
            entry = {"name": name, "users": [], "count": 0}
            reactions.append(entry)
        entry["users"].append(user)
    else:
        if entry is None or user not in entry["users"]:
            raise SlackError("no_reaction")
        entry["users"].remove(user)
        if not entry["users"]:
            reactions.remove(entry)
    if entry is not None:
        entry["count"] = len(entry["users"])
    if not reactions:
        message.pop("reactions")
    await rt.events.reaction(added=added, channel=channel, message=message, user=user, name=name)


async def _react(rt: Runtime, req: ApiRequest, *, added: bool) -> JSON:
    if req.args.text("channel") is None or req.args.text("timestamp") is None:
        raise SlackError("no_item_specified")
    channel = require_channel(rt, req.args)
    name = (req.args.text("name") or "").strip(":")
    if not name:
        raise SlackError("invalid_name")
    await apply_reaction(
        rt,
        channel_id=channel.id,
        ts=req.args.text("timestamp") or "",
        user=rt.config.bot.user_id,
        name=name,
        added=added,
    )
    return {}


async def add(rt: Runtime, req: ApiRequest) -> JSON:
    return await _react(rt, req, added=True)


async def remove(rt: Runtime, req: ApiRequest) -> JSON:
    return await _react(rt, req, added=False)


METHODS: dict[str, Method] = {
    "reactions.add": Method(add, scopes=("reactions:write",)),
    "reactions.remove": Method(remove, scopes=("reactions:write",)),
}
