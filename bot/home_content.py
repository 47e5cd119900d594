"""What one person's Home shows, read now: the requests waiting for their decision (in
channels they can see), their own requests, and what was decided lately."""

from __future__ import annotations

from collections.abc import Callable

from agent_core.engine import Engine
from approvals import MembershipUnknown

from .home import COUNTED, MAX_MINE, HomeContent
from .membership import ChannelMembers
from .slack_text import Mrkdwn
from .user_teams import Origins

__all__ = ["read_home_content"]


def _why(reasons: list[str], refused: str) -> Callable[[str], None]:
    return lambda _: reasons.append(refused)


async def read_home_content(
    engine: Engine,
    members: ChannelMembers,
    *,
    user: str,
    notice: Mrkdwn | None,
    bot_user: str,
    origins: Origins | None = None,
) -> HomeContent:
    # Why each request left out was (Slack's refusal of the lookup, or "": no answer).
    unchecked: list[str] = []
    origin, unplaced = None, None
    if origins is not None:
        try:
            origin = await origins.of(user)
        except MembershipUnknown as exc:
            # A request only their organization decides is not listed, and the Home says so;
            # one a rule names them for is, as their click would decide it.
            origin, unplaced = origins.outside(), _why(unchecked, exc.refused)

    async def visible(channel: str) -> bool:
        try:
            return await members.can_see(channel, user)
        except MembershipUnknown as exc:  # not listed (fail closed), and the Home says so
            unchecked.append(exc.refused)
            return False

    waiting = await engine.pending_for(
        user,
        visible=visible,
        limit=COUNTED,
        unchecked=lambda _, refusal: unchecked.append(refusal.refused),
        origin=origin,
        unplaced=unplaced,
    )
    return HomeContent(
        user=user,
        waiting=waiting,
        unchecked=bool(unchecked),
        refused=next((why for why in unchecked if why), ""),
        mine=await engine.requests_of(user, limit=MAX_MINE),
        decided=await engine.recently_decided(user, limit=MAX_MINE),
        now=engine.clock.now(),
        notice=notice,
        bot_user=bot_user,
    )
