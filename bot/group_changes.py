"""Approver groups whose members changed in Slack (``subteam_members_changed``).

Authorization and each Home read a group's members through ``SlackGroups``, cached for a
minute; nothing about a request changes when someone joins or leaves a group, so without
this the newcomer's Home would not offer what now waits for them and the leaver's would
keep buttons a click would be refused on.
"""

from __future__ import annotations

from .groups import SlackGroups
from .handled_events import GroupChange, GroupChangedHook
from .home_tab import HomeTab

__all__ = ["follow_group_changes"]


def follow_group_changes(*, groups: SlackGroups, home_tab: HomeTab) -> GroupChangedHook:
    """The hook ingest calls (on the socket thread) for each change."""

    def changed(change: GroupChange) -> None:
        # Forgotten before any Home is queued: the Homes redrawn read the new members.
        groups.forget(change.group)
        home_tab.members_changed(change.people)

    return changed
