"""Identity and directory methods: auth.test, apps.connections.open, users.*, usergroups.*."""

from __future__ import annotations

from localslack.config import GroupSpec
from localslack.errors import SlackError
from localslack.records import JSON
from localslack.runtime import Runtime
from localslack.webapi import ApiRequest, Method

__all__ = ["METHODS", "group_updated"]


async def auth_test(rt: Runtime, req: ApiRequest) -> JSON:
    cfg = rt.config
    return {
        "url": f"{rt.base_url}/",
        "team": cfg.team_name,
        "user": cfg.bot.name,
        "team_id": cfg.team_id,
        "user_id": cfg.bot.user_id,
        "bot_id": cfg.bot.bot_id,
        "is_enterprise_install": False,
    }


async def connections_open(rt: Runtime, req: ApiRequest) -> JSON:
    return {"url": rt.hub.issue_url(base_url=rt.base_url)}


async def users_info(rt: Runtime, req: ApiRequest) -> JSON:
    user = rt.workspace.user_object(req.args.text("user") or "")
    if user is None:
        raise SlackError("user_not_found")
    return {"user": user}


async def users_list(rt: Runtime, req: ApiRequest) -> JSON:
    ids = [*rt.workspace.users, rt.config.bot.user_id]
    members = [u for uid in ids if (u := rt.workspace.user_object(uid)) is not None]
    return {
        "members": members,
        "cache_ts": int(rt.clock()),
        "response_metadata": {"next_cursor": ""},
    }


def group_updated(rt: Runtime, group: GroupSpec) -> int:
    """When ``group``'s members last changed, as Slack dates it (``date_update``)."""
    return group.updated if group.updated is not None else int(rt.clock()) - 86400


def _group(rt: Runtime, group: GroupSpec, *, include_users: bool) -> JSON:
    data: JSON = {
        "id": group.id,
        "team_id": rt.config.team_id,
        "is_usergroup": True,
        "is_subteam": True,
        "name": group.name,
        "description": group.description,
        "handle": group.handle,
        "is_external": False,
        "date_create": int(rt.clock()) - 86400,
        "date_update": group_updated(rt, group),
        "date_delete": 0,
        "auto_type": None,
        "created_by": group.members[0] if group.members else "",
        "updated_by": group.members[0] if group.members else "",
        "deleted_by": None,
        "prefs": {"channels": [], "groups": []},
        "user_count": len(group.members),
    }
    if include_users:
        data["users"] = list(group.members)
    return data


async def usergroups_list(rt: Runtime, req: ApiRequest) -> JSON:
    include = req.args.flag("include_users")
    return {
        "usergroups": [_group(rt, g, include_users=include) for g in rt.workspace.groups.values()]
    }


async def usergroups_users_list(rt: Runtime, req: ApiRequest) -> JSON:
    group = rt.workspace.groups.get(req.args.text("usergroup") or "")
    if group is None:
        raise SlackError("no_such_subteam")
    return {"users": list(group.members)}


METHODS: dict[str, Method] = {
    "auth.test": Method(auth_test),
    "apps.connections.open": Method(connections_open, token="app"),
    "users.info": Method(users_info, scopes=("users:read",)),
    "users.list": Method(users_list, scopes=("users:read",)),
    "usergroups.list": Method(usergroups_list, scopes=("usergroups:read",)),
    "usergroups.users.list": Method(usergroups_users_list, scopes=("usergroups:read",)),
}
