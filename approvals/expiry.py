"""The expiry sweep: driven by the index, decided on disk, with an injectable clock."""

from __future__ import annotations

import logging

from sessions import Clock, Home, Index, SessionsError, utc_iso

from .authorize import GroupResolver, Unchecked
from .decision_checks import expired
from .decisions import expire_due
from .errors import ApprovalsError
from .outcomes import AlreadyDecided, Decided
from .policy import Policy
from .quorum_completion import RunsNothing
from .request import ApprovalRequest

__all__ = ["sweep_expired"]

log = logging.getLogger("signoff.approvals")


async def sweep_expired(
    home: Home,
    index: Index,
    *,
    clock: Clock,
    policy: Policy,
    groups: GroupResolver,
    runs_nothing: RunsNothing | None = None,
) -> list[Decided | AlreadyDecided]:
    """Expire every pending request that is due; returns the decisions now on disk.

    One whose approvals were all in before its deadline is approved instead (a crash
    came between the last vote and the decision, and no sweep ran before the deadline), if
    they are a quorum of approvers the rules still allow; while Slack cannot say who is in
    an approver group, or a vote is being recorded (``expire_due``), it is neither
    approved nor expired, and asked again next pass; nor approved when approving it would
    run nothing (``runs_nothing``: its tool left the configuration): it expires; nor
    decided at all where that cannot be told (a terminal lacking the tool): the bot does.

    A row the index still calls pending may already be decided on disk (the index lags):
    that decision is returned as AlreadyDecided so the caller can mirror it. Every due row
    is visited (the index is paged through, with no cap), and one unreadable request is
    logged and skipped rather than stopping the sweep for all the others.
    """
    now = clock.now()
    out: list[Decided | AlreadyDecided] = []
    async for row in index.iter_approvals(status="pending", due_before=utc_iso(now)):
        try:
            request = ApprovalRequest.open(home, row.id, clock=clock)
            # Its records are read here too (a vote, the decision): one unreadable one
            # is this request's problem, not a stop of every expiry after it.
            existing = request.decision()
            if existing is not None:
                out.append(AlreadyDecided(request.capsule, existing))
            elif expired(request.capsule, now):
                gone = runs_nothing(request) if runs_nothing is not None else None
                due = await expire_due(
                    request, now=now, policy=policy, groups=groups, runs_nothing=gone
                )
                if isinstance(due, Unchecked):
                    log.info("expiry of %s waits: %s", row.id, due)
                    continue
                out.append(due)
        except (SessionsError, ApprovalsError) as exc:
            log.warning("expiry sweep skips %s: %s", row.id, exc)
    return out
