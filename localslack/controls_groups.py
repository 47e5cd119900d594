"""Changing a user group's members, as an admin does in Slack (``usergroups.users.update``
sets the whole list): ``usergroups.users.list`` and ``usergroups.list`` answer the new
members at once, and an app subscribed to ``subteam_members_changed`` hears who was added
and who removed. Also on the HTTP control API as ``POST /_control/groups/members``."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from localslack.deliveries import Delivery
from localslack.errors import ControlError
from localslack.methods_directory import group_updated
from localslack.runtime import Runtime

__all__ = ["GroupChange", "GroupControls"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class GroupChange:
    """What a change did: who joined and who left (each in a stable order), and the event
    sent for it (None when nothing changed or the app does not subscribe)."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    delivery: Delivery | None


class GroupControls:
    """Mixed into LocalSlack (via Controls)."""

    _rt: Runtime

    async def update_group_members(self, *, group: str, users: Sequence[str]) -> Delivery | None:
        """Make ``users`` the members of ``group``; the ``subteam_members_changed`` delivery,
        or None when the members are the same (Slack sends nothing) or the app does not
        subscribe to it."""
        return (await self.change_group_members(group=group, users=users)).delivery

    async def change_group_members(self, *, group: str, users: Sequence[str]) -> GroupChange:
        rt = self._rt
        current = rt.workspace.groups.get(group)
        if current is None:
            raise ControlError("no_such_subteam", group, status=404)
        unknown = [u for u in users if u not in rt.workspace.users]
        if unknown:
            raise ControlError("user_not_found", ", ".join(unknown), status=404)
        members = tuple(dict.fromkeys(users))  # a name twice is one member
        added = tuple(u for u in members if u not in current.members)
        removed = tuple(u for u in current.members if u not in members)
        if not added and not removed:
            return GroupChange(added=(), removed=(), delivery=None)
        previous = group_updated(rt, current)
        # Never earlier than the last change, even on a clock set back: apps compare them.
        now = max(int(rt.clock()), previous)
        rt.workspace.groups[group] = dataclasses.replace(current, members=members, updated=now)
        # Heard by the change feed (state file, browsers) like every other workspace change.
        rt.workspace.surface_watch.publish({"kind": "group", "id": group, "members": list(members)})
        delivery = await rt.events.subteam_members_changed(
            group=group,
            added=list(added),
            removed=list(removed),
            previous_update=previous,
            update=now,
        )
        return GroupChange(added=added, removed=removed, delivery=delivery)
