"""May this person decide this request, now?

Checked at decision time, not when the card was posted: group membership is resolved
on the click, and both the rule captured in the capsule and the rule in force now must
allow the person, so tightening a policy applies to requests already waiting.

An escalation (``governance.py``) adds approvers to one request: its record names them,
and both rules then count them as approvers of that request while each still escalates
to them (a rule in force that dropped one from ``escalate_to`` no longer does). The
requester stays excluded whoever is added.

An ``anyone`` rule is open to the organization signoff is installed in (``origin``): a
person of another organization in a shared channel decides only where a rule (or an
escalation) names them or a group they are in.
"""

from __future__ import annotations

from typing import Protocol, Self

from .errors import MembershipUnknown
from .origin import Origin
from .policy import PolicyRule

__all__ = [
    "GroupResolver",
    "NoGroups",
    "Outside",
    "StaticGroups",
    "Unchecked",
    "authorize",
    "what_helps",
]


def what_helps(refused: str) -> str:
    """The end of "signoff could not check with Slack <what>": when to try again, or, when
    Slack refused the app the lookup (``refused``, ``MembershipUnknown.refused``), that
    trying again will not help and whoever runs signoff can."""
    if refused:
        return f": Slack refused signoff the lookup ({refused}); tell whoever runs signoff"
    return " just now; try again in a moment"


class Unchecked(str):
    """A refusal because who is in an approver group could not be learned: not a verdict
    on the person, so a list of what they may decide must not just leave it out.
    ``refused`` as in ``MembershipUnknown``: Slack refused the app the lookup."""

    refused: str

    def __new__(cls, text: str, *, refused: str = "") -> Self:
        made = super().__new__(cls, text)
        made.refused = refused
        return made


class Outside(str):
    """A refusal because the person acts from another organization than the
    installation's, under an ``anyone`` rule: the one refusal the origin decides."""


_OUTSIDE = Outside(
    "you are in another organization than the one signoff is installed in, and this "
    "tool's approvers are anyone of that organization; its policy can name you"
)


class GroupResolver(Protocol):
    """What Slack says of people when a decision is made: who is in a group, and who can
    read a channel (a card's, whose earlier approvers a completing vote asks about)."""

    async def members(self, group_id: str) -> frozenset[str]:
        """Who is in the group; ``MembershipUnknown`` when that cannot be learned now."""
        ...

    async def can_see(self, channel: str, user: str) -> bool:
        """Can ``user`` read ``channel`` now (a public one, or one they are in);
        ``MembershipUnknown`` when that cannot be learned now."""
        ...


class NoGroups:
    """Without a Slack connection who is in a group cannot be learned: group-only rules
    fail closed. Not "no members": that is a verdict, and re-checking a quorum's earlier
    approvers (``decisions``) would discount a group member's approval for good."""

    async def members(self, group_id: str) -> frozenset[str]:
        raise MembershipUnknown(group_id)

    async def can_see(self, channel: str, user: str) -> bool:
        # A terminal checks no one's channel, its own user's neither: it acts on the
        # host's word. Unknown would refuse every quorum it completes in a private channel.
        return True


class StaticGroups:
    def __init__(self, groups: dict[str, frozenset[str]]) -> None:
        self._groups = groups

    async def members(self, group_id: str) -> frozenset[str]:
        return self._groups.get(group_id, frozenset())

    async def can_see(self, channel: str, user: str) -> bool:
        return True


async def _allowed_by(
    rule: PolicyRule,
    user: str,
    askers: tuple[str, ...],
    groups: GroupResolver,
    escalated: tuple[str, ...],
    origin: Origin | None,
) -> str | None:
    """The reason for a refusal, or None when allowed."""
    if user in askers and not rule.allow_self_approval:
        return "you asked for this call, so someone else must decide it"
    if user in rule.approver_users or user in escalated:
        return None
    if rule.open_to_anyone and (origin is None or not origin.outside):
        return None
    # From here on, under an open rule only an escalated group can name them.
    unknown, refused = False, ""
    for group in (*rule.approver_groups, *(g for g in escalated if g.startswith("S"))):
        try:
            if user in await groups.members(group):
                return None
        except MembershipUnknown as exc:
            unknown = True  # fail closed, but never call an approver no approver
            refused = refused or exc.refused
    if unknown and isinstance(groups, NoGroups):  # a terminal without the bot's token
        return Unchecked(
            "signoff cannot check who is in its approver group without Slack: give this "
            "terminal the bot's token (SLACK_BOT_TOKEN), or decide in Slack"
        )
    if unknown:
        return Unchecked(
            f"signoff could not check with Slack who is in its approver group{what_helps(refused)}",
            refused=refused,
        )
    if rule.open_to_anyone:
        return _OUTSIDE
    extra = f"; escalated to: {' '.join(escalated)}" if escalated else ""
    return f"you are not an approver for this tool (approvers: {rule.describe()}{extra})"


async def authorize(
    *,
    user: str,
    requester: str | tuple[str, ...],
    snapshot: PolicyRule,
    current: PolicyRule,
    groups: GroupResolver,
    escalated: tuple[str, ...] = (),
    origin: Origin | None = None,
) -> str | None:
    """Why ``user`` may not decide, or None: both rules must allow them (``escalated``:
    the approvers an escalation added to this request; ``origin``: the organization the
    decision comes from, None for an operator's terminal)."""
    askers = (requester,) if isinstance(requester, str) else requester
    for rule in (snapshot, current):
        # An escalation came from the captured rule; the rule in force counts whom it
        # still escalates to (one dropped from its rota since may not decide as added).
        added = tuple(e for e in escalated if e in (*rule.escalate_users, *rule.escalate_groups))
        refusal = await _allowed_by(rule, user, askers, groups, added, origin)
        if refusal is not None:
            return refusal
    return None
