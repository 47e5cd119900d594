"""``/signoff pending``: what this person may decide (the same check a click makes), from
the channels they can see (public, or one they are in), as their Home tab lists and
counts it: every request is counted, the first ``LISTED`` listed."""

from __future__ import annotations

from agent_core.engine import Engine
from approvals import MembershipUnknown, what_helps

from .cards import expiry, progress
from .home import COUNTED
from .membership import COULD_NOT_CHECK, ChannelMembers
from .slack_text import Mrkdwn, channel_link, escape, join, literal, mention
from .user_teams import Origins

__all__ = ["LISTED", "pending_for"]

LISTED = 20  # of the requests waiting, those ``pending`` lists (each line ~200 characters)


def _more(waiting: int) -> str:
    more = waiting - LISTED
    return f"{more}{'+' if waiting >= COUNTED else ''}"


def _left_out(*, groups: list[str], organization: list[str]) -> Mrkdwn | None:
    """Why requests are not in a list, if any are not: what Slack did not say (each entry
    names Slack's refusal of that lookup, or is "": no answer just now)."""
    what = " or ".join(
        [
            *(["who is in an approver group"] if groups else []),
            *(["which organization you are in"] if organization else []),
        ]
    )
    if not what:
        return None
    refused = next((why for why in (*groups, *organization) if why), "")
    if refused:  # trying again will not help
        return literal(
            f"{COULD_NOT_CHECK} {what}{what_helps(refused)}. Requests that depend on it are "
            "not listed."
        )
    return literal(
        f"{COULD_NOT_CHECK} {what} just now, so requests that depend on it are not listed; "
        "try again in a moment."
    )


async def pending_for(
    engine: Engine, members: ChannelMembers, user: str, origins: Origins | None
) -> Mrkdwn:
    origin, placed, refused = None, True, ""
    unplaced: list[str] = []  # why, for each request left out: as ``_left_out``
    if origins is not None:
        try:
            # As their click is judged: a Slack Connect guest decides only what a rule
            # names them for, and a command names no team of the person.
            origin = await origins.of(user)
        except MembershipUnknown as exc:
            # Only what their organization decides is left out (and said): a click, which
            # names its team, would decide what a rule names them for.
            origin, placed, refused = origins.outside(), False, exc.refused

    async def visible(channel: str) -> bool:
        # As the Home tab lists them, and as a click is judged: a public channel, or one
        # they are in. (Members only, this said "nothing is waiting" to an approver not in
        # a public channel whose request their click, and their Home, would decide.)
        return await members.can_see(channel, user)

    groups_unknown: list[str] = []
    try:
        mine = await engine.pending_for(
            user,
            visible=visible,
            limit=COUNTED,  # counted as the Home counts them; LISTED of them shown
            unchecked=lambda _, refusal: groups_unknown.append(refusal.refused),
            origin=origin,
            unplaced=None if placed else lambda _: unplaced.append(refused),
        )
    except MembershipUnknown as exc:  # "nothing is waiting" would not be true
        return literal(f"{COULD_NOT_CHECK} which channels you can see{what_helps(exc.refused)}.")
    left_out = _left_out(groups=groups_unknown, organization=unplaced)
    if left_out is not None and not mine:
        return left_out
    if not mine:
        return literal("Nothing is waiting for your decision.")
    # Read to 20 and counted as read, 23 waiting were said to be 20.
    count = f"{len(mine)}{'+' if len(mine) >= COUNTED else ''}"
    lines = [literal(f"{count} request(s) waiting for you:")]
    now = engine.clock.now()
    for item in mine[:LISTED]:
        c = item.capsule
        so_far = progress(item.view.needed if item.view else c.policy.quorum, item.voters)
        lines.append(
            join(
                literal("• `"),
                escape(c.tool),
                literal("` asked by "),
                mention(c.requester),
                literal(" in "),
                channel_link(item.channel),
                literal(", expires "),
                expiry(c, now),
                join(literal(", "), so_far) if so_far else literal(""),
                literal(f" (`{c.id}`)"),
            )
        )
    if len(mine) > LISTED:
        lines.append(literal(f"…and {_more(len(mine))} more, not listed here."))
    if left_out is not None:
        lines.append(join(literal("(Not all listed: "), left_out, literal(")")))
    return join(*lines, sep="\n")
