"""Who can see a channel, from Slack, with a short cache; an error fails closed.

Anyone in the workspace can read a public channel; a private channel only its members
(and a direct message its two people). What signoff lists for a person — ``/signoff
pending``, the Home tab — names only requests whose card they can see.
"""

from __future__ import annotations

import time

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

__all__ = ["ChannelMembers"]


class ChannelMembers:
    def __init__(self, client: AsyncWebClient, *, ttl: float = 60.0) -> None:
        self.client = client
        self.ttl = ttl
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        self._public: dict[str, tuple[float, bool]] = {}

    async def members(self, channel: str) -> frozenset[str]:
        cached = self._cache.get(channel)
        if cached is not None and time.monotonic() - cached[0] < self.ttl:
            return cached[1]
        found: set[str] = set()
        cursor: str | None = None
        try:
            while True:
                page = await self.client.conversations_members(
                    channel=channel, limit=1000, cursor=cursor
                )
                found.update(str(u) for u in page.get("members") or [])
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    break
        except SlackApiError:
            return frozenset()
        members = frozenset(found)
        self._cache[channel] = (time.monotonic(), members)
        return members

    async def is_member(self, channel: str, user: str) -> bool:
        return user in await self.members(channel)

    async def is_public(self, channel: str) -> bool:
        cached = self._public.get(channel)
        if cached is not None and time.monotonic() - cached[0] < self.ttl:
            return cached[1]
        try:
            info = (await self.client.conversations_info(channel=channel)).get("channel") or {}
        except SlackApiError:
            return False
        public = bool(info.get("is_channel")) and not info.get("is_private")
        self._public[channel] = (time.monotonic(), public)
        return public

    async def can_see(self, channel: str, user: str) -> bool:
        """Can ``user`` read ``channel``: a public channel, or one they are in."""
        return await self.is_public(channel) or await self.is_member(channel, user)
