"""Which organization a person is in, from ``users.info``, with a short cache.

A click names its clicker's team (``user.team_id``); an event such as
``agent_session_stopped`` names only the user, so their team is asked of Slack: the user
object's ``team_id`` (a Slack Connect guest's is their own team), or on Enterprise Grid
its ``enterprise_user.enterprise_id`` (the ``E…`` id a Grid click names, see
``approvals.origin``). Not tried against a real Grid.

Slack's verdict (``user_not_found``) names no team: counted as outside. No usable answer
(a dropped connection, ``ratelimited`` after the client's retries, an outage) is
``MembershipUnknown``, for the caller to fail closed on; so is Slack refusing the app the
lookup (a missing ``users:read``, a revoked token: ``membership.NOT_ASKED``), which says
nothing of the person, its ``refused`` naming Slack's answer. Neither is cached.

A list of what a person may decide (their Home tab, ``/signoff pending``) names no team
either, yet must judge them as their click would be judged (``Origins``): a Slack Connect
guest is shown as waiting for them only what a rule names them for.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from slack_sdk.web.async_client import AsyncWebClient

from approvals import Installation, Origin

from .membership import RecentAnswers, slack_lookup

# People whose answers are kept at once: stoppers of the last minute.
_PEOPLE = 1000

__all__ = ["Origins", "UserTeams"]


class UserTeams:
    """``users.info``'s team of a person, cached for ``ttl`` seconds (a stop clicked
    twice, or by the same person in several threads, asks once)."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        ttl: float = 60.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self._cache: RecentAnswers[str] = RecentAnswers(ttl, now, _PEOPLE)

    async def team_of(self, user: str) -> str:
        """The team (or Grid enterprise) ``user`` belongs to; "" when Slack named none."""
        cached = self._cache.get(user)
        if cached is not None:
            return cached
        answer = await slack_lookup(
            self.client.users_info(user=user), what=f"which organization {user} is in"
        )
        if answer is None:
            return ""
        found = answer.get("user") or {}
        grid = found.get("enterprise_user") or {}
        team = str(grid.get("enterprise_id") or found.get("team_id") or "")
        self._cache.put(user, team)
        return team


class Origins:
    """The organization a person acts from, for the installation ``auth.test`` named."""

    def __init__(self, teams: UserTeams, installation: Installation) -> None:
        self.teams = teams
        self.installation = installation

    async def of(self, user: str) -> Origin:
        """``MembershipUnknown`` when Slack gave no usable answer or refused the app the
        lookup (see ``outside``)."""
        return Origin(team=await self.teams.team_of(user), installation=self.installation)

    def outside(self) -> Origin:
        """Where someone Slack could not place acts from: outside (fail closed)."""
        return Origin(team="", installation=self.installation)
