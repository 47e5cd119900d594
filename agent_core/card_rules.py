"""The waiting cards shown again under a policy changed since this home last applied one.

A card is rendered when something happens to its request, with the rules in force then;
a policy changed across a restart (an approver dropped, a quorum raised) left every waiting
card showing the old rules until someone clicked. ``show_new_rules`` queues the card of
each waiting request whose tool's rule changed (``approvals.policy_applied``), once per
card and policy, and reads nothing when the policy is the one applied last. The bot runs
it once linked to Slack, after the start's sweep: a big home must not hold up the link.
"""

from __future__ import annotations

import logging

from approvals import ApprovalRequest, ApprovalsError
from approvals.policy_applied import applied_policy, record_applied, rules_refresh
from sessions import Clock, Home, SessionsError, off_loop

from .runtime import Runtime

__all__ = ["show_new_rules"]

log = logging.getLogger("signoff.recovery")


def _queue(home: Home, approval_id: str, why: str, clock: Clock) -> bool:
    request = ApprovalRequest.open(home, approval_id, clock=clock)
    return request.decision() is None and request.queue_card(why)


async def show_new_rules(rt: Runtime) -> int:
    """Queue the card of each waiting request whose tool's rule changed since the policy
    this home last applied, then record this one as applied: how many were queued."""
    before, shown = applied_policy(rt.home), 0
    if before is not None and (before.default, before.tools) != (
        rt.policy.default,
        rt.policy.tools,
    ):
        why = rules_refresh(rt.policy)
        async for row in rt.index.iter_approvals(status="pending"):
            if before.rule_for(row.tool) == rt.policy.rule_for(row.tool):
                continue
            try:
                shown += await off_loop(_queue, rt.home, row.id, why, rt.clock)
            except (SessionsError, ApprovalsError) as exc:
                log.warning("cannot show %s under the new policy: %s", row.id, exc)
        if shown:
            rt.outbox_written()
    # After the cards are queued: a crash before this queues them again at the next start
    # (the same entries: no-ops).
    await off_loop(record_applied, rt.home, rt.policy)
    return shown
