"""Can a request's quorum ever be reached by the people its rule names?

The policy's load-time check counts names (``quorum = 2`` over two approvers loads), but
the requester may not approve their own call: ``approvers = [Alice, Bob]``, asked by
Alice, leaves Bob alone for two approvals. The rule is captured in the capsule and both
it and the rule in force must allow every approver (``authorize``), so no later policy
can add anyone: the card would wait, unanswerable, until it expired. Such a request is
refused at the gate instead, and the person told why, at once.

Only a rule that names people alone is judged: a user group's members can change while
the request waits (and Slack is not asked at the gate), and ``anyone`` is open.
"""

from __future__ import annotations

from .policy import PolicyRule

__all__ = ["unreachable_quorum"]


def unreachable_quorum(rule: PolicyRule, *, requesters: tuple[str, ...]) -> str | None:
    """Why no set of people could ever approve a request under ``rule`` asked by
    ``requesters``, or None when some could (or it cannot be known now)."""
    if rule.open_to_anyone or rule.approver_groups or rule.escalate_groups:
        return None
    named = dict.fromkeys((*rule.approver_users, *rule.escalate_users))
    eligible = [person for person in named if rule.allow_self_approval or person not in requesters]
    if len(eligible) >= rule.quorum:
        return None
    excluded = [person for person in named if person not in eligible]
    who = " ".join(eligible) if eligible else "nobody"
    return (
        f"it needs {rule.quorum} approvals from {' '.join(named)}, and {' '.join(excluded)} "
        f"asked for it, so only {who} may approve it"
    )
