"""Can a request's quorum ever be reached by the people its rule names?

The policy's load-time check counts names (``quorum = 2`` over two approvers loads), but
the requester may not approve their own call: ``approvers = [Alice, Bob]``, asked by
Alice, leaves Bob alone for two approvals. The rule is captured in the capsule and both
it and the rule in force must allow every approver (``authorize``), so no later policy
can add anyone: the card would wait, unanswerable, until it expired. Such a request is
refused at the gate instead, and the person told why, at once.

Only a rule that names people alone is judged: a user group's members can change while
the request waits (and Slack is not asked at the gate), and ``anyone`` is open. An
escalation counts only if it comes before the request expires.
"""

from __future__ import annotations

from .policy import PolicyRule

__all__ = ["short_of_quorum", "unreachable_quorum"]


def unreachable_quorum(rule: PolicyRule, *, requesters: tuple[str, ...]) -> str | None:
    """Why no set of people could ever approve a request under ``rule`` asked by
    ``requesters``, or None when some could (or it cannot be known now)."""
    # An escalation due when the request has expired never comes (``escalation_due``).
    late = (rule.escalate_after_seconds or 0) >= rule.expires_after_seconds
    if rule.open_to_anyone or rule.approver_groups or (rule.escalate_groups and not late):
        return None
    named = dict.fromkeys((*rule.approver_users, *(() if late else rule.escalate_users)))
    eligible = [person for person in named if rule.allow_self_approval or person not in requesters]
    if len(eligible) >= rule.quorum:
        return None
    excluded = [person for person in named if person not in eligible]
    who = " ".join(eligible) if eligible else "nobody"
    never = ""
    if late and rule.escalate_users:
        never = f" ({' '.join(rule.escalate_users)} would be added only after it expired)"
    return (
        f"it needs {rule.quorum} approvals from {' '.join(named)}{never}, and "
        f"{' '.join(excluded)} asked for it, so only {who} may approve it"
    )


def short_of_quorum(
    *,
    deciders: tuple[str, ...],
    escalated: tuple[str, ...],
    quorum: int,
    askers: tuple[str, ...],
    self_approval: bool,
) -> tuple[str, ...] | None:
    """Who alone may still approve a waiting request that can no longer reach its quorum
    under the rules a click is judged by (``deciders``: whom both rules allow,
    ``approvals.approvers_of``, none in common too; a policy changed since it was asked may
    leave fewer of them than its quorum; ``escalated``: whom an escalation added or may
    add), or None when it can. Judged, like a request at the gate, only
    when every decider is a person: a group may gain members."""
    named = dict.fromkeys((*deciders, *escalated))
    if any(a.startswith("S") for a in named):
        return None
    eligible = tuple(a for a in named if self_approval or a not in askers)
    return eligible if len(eligible) < quorum else None
