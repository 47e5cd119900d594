"""Who is in a channel, from Slack, with a short cache; an error fails closed."""

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
