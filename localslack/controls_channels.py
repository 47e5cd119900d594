"""A person joining or leaving a channel, as when they join, leave or are removed in Slack:
``conversations.members`` answers the new members at once, and an app subscribed to
``member_joined_channel`` / ``member_left_channel`` hears of it (Slack sends those only for
channels the app is in). A channel archived or unarchived: read-only meanwhile (its
messages and members stay), ``channel_archive`` / ``channel_unarchive`` to an app
subscribed. A channel deleted by an admin: gone with its messages (every method naming it
answers ``channel_not_found``), ``channel_deleted`` to an app subscribed."""

from __future__ import annotations

from localslack.deliveries import Delivery
from localslack.errors import ControlError
from localslack.records import Channel
from localslack.runtime import Runtime

__all__ = ["ChannelControls"]


class ChannelControls:
    """Mixed into LocalSlack (via Controls)."""

    _rt: Runtime

    async def join_channel(self, *, channel: str, user: str) -> Delivery | None:
        """``user`` joins ``channel``; the ``member_joined_channel`` delivery, if any."""
        found = self._member_change(channel, user)
        if user in found.members:
            return None
        found.members.add(user)
        return await self._member_event("member_joined_channel", found, user)

    async def leave_channel(self, *, channel: str, user: str) -> Delivery | None:
        """``user`` leaves (or is removed from) ``channel``; the ``member_left_channel``
        delivery, if any."""
        found = self._member_change(channel, user)
        if user not in found.members:
            return None
        found.members.discard(user)
        return await self._member_event("member_left_channel", found, user)

    async def archive_channel(self, *, channel: str, user: str) -> Delivery | None:
        """``user`` archives ``channel``: the ``channel_archive`` delivery, if any."""
        return await self._set_archived(channel, user, archived=True)

    async def unarchive_channel(self, *, channel: str, user: str) -> Delivery | None:
        """``user`` unarchives ``channel``: the ``channel_unarchive`` delivery, if any."""
        return await self._set_archived(channel, user, archived=False)

    async def delete_channel(self, *, channel: str) -> Delivery | None:
        """An admin deletes ``channel``: the ``channel_deleted`` delivery, if any."""
        found = self._rt.workspace.channel(channel)
        if found is None or found.is_im or found.is_mpim:
            raise ControlError("channel_not_found", channel, status=404)
        self._rt.workspace.delete_channel(found.id)
        events = self._rt.events
        if not events.subscribed("channel_deleted"):
            return None
        return await events.publish_channel_change("channel_deleted", channel=found, user="")

    async def _set_archived(self, channel: str, user: str, *, archived: bool) -> Delivery | None:
        found = self._member_change(channel, user)
        if found.is_archived == archived:
            raise ControlError("already_archived" if archived else "not_archived", found.id)
        found.is_archived = archived
        kind = "channel_archive" if archived else "channel_unarchive"
        events = self._rt.events
        if not events.subscribed(kind):
            return None
        return await events.publish_channel_change(kind, channel=found, user=user)

    def _member_change(self, channel: str, user: str) -> Channel:
        found = self._rt.workspace.channel(channel)
        if found is None or found.is_im:
            raise ControlError("channel_not_found", channel, status=404)
        if user not in self._rt.workspace.users and user != self._rt.config.bot.user_id:
            raise ControlError("user_not_found", user, status=404)
        return found

    async def _member_event(self, kind: str, channel: Channel, user: str) -> Delivery | None:
        events = self._rt.events
        if not events.subscribed(kind) or self._rt.config.bot.user_id not in channel.members:
            return None
        return await events.publish_member_change(kind, channel=channel, user=user)
