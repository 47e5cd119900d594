"""User-group membership from Slack, resolved at decision time with a short cache."""

from __future__ import annotations

import time

from slack_sdk.web.async_client import AsyncWebClient

from .membership import slack_lookup

__all__ = ["SlackGroups"]


class SlackGroups:
    """``usergroups.users.list``, cached for ``ttl`` seconds; an error fails closed: Slack's
    verdict (no such group) as no members, no answer (a dropped connection, a timeout, a
    body cut short, an outage) as ``MembershipUnknown``, which authorization refuses on
    and says so. Neither is cached: the next click asks again."""

    def __init__(self, client: AsyncWebClient, *, ttl: float = 60.0) -> None:
        self.client = client
        self.ttl = ttl
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}

    async def members(self, group_id: str) -> frozenset[str]:
        cached = self._cache.get(group_id)
        if cached is not None and time.monotonic() - cached[0] < self.ttl:
            return cached[1]
        response = await slack_lookup(
            self.client.usergroups_users_list(usergroup=group_id), what=f"who is in {group_id}"
        )
        if response is None:
            return frozenset()
        members = frozenset(str(u) for u in response.get("users") or [])
        self._cache[group_id] = (time.monotonic(), members)
        return members
