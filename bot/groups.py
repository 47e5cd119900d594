"""User-group membership from Slack, resolved at decision time with a short cache; and
who can read a card's channel, asked of Slack each time."""

from __future__ import annotations

import threading
import time

from slack_sdk.web.async_client import AsyncWebClient

from .membership import ChannelMembers, slack_lookup

__all__ = ["SlackGroups"]

# Seconds an answer about who can read a channel is kept: a decision rests on it.
_CHANNEL_FRESH = 1.0


class SlackGroups:
    """``usergroups.users.list``, cached for ``ttl`` seconds; an error fails closed: Slack's
    verdict (no such group) as no members, no answer (a dropped connection, a timeout, a
    body cut short, an outage) as ``MembershipUnknown``, which authorization refuses on
    and says so. Neither is cached: the next click asks again. Who can read a channel
    (``can_see``) is kept a second only: a decision rests on it.

    ``forget`` drops a group Slack said changed (``subteam_members_changed``), so the next
    click or Home asks Slack, not a list up to ``ttl`` old."""

    def __init__(self, client: AsyncWebClient, *, ttl: float = 60.0) -> None:
        self.client = client
        self.ttl = ttl
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        # Bumped by every forget: an answer asked for before it may predate the change, and
        # caching it would bring the old members back for a whole ttl. forget is called on
        # the socket thread, members on the engine's loop: the lock keeps check-and-cache
        # and forget from interleaving.
        self._forgotten: dict[str, int] = {}
        self._lock = threading.Lock()
        # Asked as fresh as a click's own check, but once for all the earlier voters a
        # completing vote asks about (each would otherwise fetch the whole list again).
        self._channels = ChannelMembers(client, ttl=_CHANNEL_FRESH)

    def forget(self, group_id: str) -> None:
        """Slack said ``group_id``'s members changed; safe from any thread."""
        with self._lock:
            self._cache.pop(group_id, None)
            self._forgotten[group_id] = self._forgotten.get(group_id, 0) + 1

    async def can_see(self, channel: str, user: str) -> bool:
        return await self._channels.can_see(channel, user)

    async def members(self, group_id: str) -> frozenset[str]:
        with self._lock:
            cached = self._cache.get(group_id)
            asked_at = self._forgotten.get(group_id, 0)
        if cached is not None and time.monotonic() - cached[0] < self.ttl:
            return cached[1]
        response = await slack_lookup(
            self.client.usergroups_users_list(usergroup=group_id), what=f"who is in {group_id}"
        )
        if response is None:
            return frozenset()
        members = frozenset(str(u) for u in response.get("users") or [])
        with self._lock:
            if self._forgotten.get(group_id, 0) == asked_at:
                self._cache[group_id] = (time.monotonic(), members)
        return members
