"""Reminders, escalation and quorum completion: what the sweep does when a timer is due.

Per request, from its policy snapshot (the rule captured in the capsule, like its expiry):

- ``remind_after`` — reminder ``n`` is due ``n × remind_after`` after the request, for ``n``
  up to ``max_reminders`` and before it expires. It re-pings, in the thread, the approvers
  who have not approved the current arguments yet: those the rule in force allows too, as
  a click must pass both. When several fell due while no process ran, one reminder (the
  latest) is posted, not a burst.
- ``escalate_after`` / ``escalate_to`` — once, the request gains those approvers (the record
  is what authorization reads) and they are pinged; the card shows it.
- a quorum whose approvals are all in but whose decision a crash prevented (or whose quorum
  the policy in force lowered) is decided, with the approvers the rules still allow.

Each step is a create-only record written *before* its post is queued under a fixed outbox
id, and every pass re-queues the posts of the records that exist (a no-op once queued or
sent): a restart between any two steps neither loses nor repeats a reminder.

A request asked in a direct message has its card in another channel, and the posts go by
the card, to the approvers: none is queued before that card is posted (an id queued in
the direct message would stay there). A reminder is not recorded until then, its marker
kept; an escalation is recorded when due (it decides who may approve), its post held and
its marker kept, until a pass finds the card.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sessions import Clock, Home, NotFoundError, SessionsError, utc_iso

from .authorize import GroupResolver, Unchecked
from .decision_checks import expired
from .errors import ApprovalsError
from .follow_up_posts import queue_posts, to_ping
from .governed import after
from .outcomes import AlreadyDecided, CannotRun, Decided
from .policy import Policy
from .quorum_completion import RunsNothing, complete_quorum
from .records import Escalation, Reminder
from .request import ApprovalRequest
from .timers import Timers

__all__ = [
    "Escalated",
    "QuorumCompleted",
    "Reminded",
    "Step",
    "fire_due",
    "overtaken",
    "sweep_timers",
]

log = logging.getLogger("signoff.approvals")


@dataclass(frozen=True)
class Reminded:
    request: ApprovalRequest
    reminder: Reminder


@dataclass(frozen=True)
class Escalated:
    request: ApprovalRequest
    escalation: Escalation


@dataclass(frozen=True)
class QuorumCompleted:
    request: ApprovalRequest
    result: Decided | AlreadyDecided


Step = Reminded | Escalated | QuorumCompleted


def overtaken(home: Home, *, post_id: str, approval_id: str) -> bool:
    """Was this queued post a reminder or an escalation (words asking people to decide)
    of a request decided since? Then it is not posted: a decision from another process
    may land between the sweep's look and its records (delivery asks at send time)."""
    if not approval_id or not post_id.startswith(("remind-", "escalate-")):
        return False
    try:
        return ApprovalRequest.open(home, approval_id).decision() is not None
    except (SessionsError, ApprovalsError):
        return False  # posted as queued: the request's problem is for verify to say


def _latest_due_reminder(request: ApprovalRequest, at: str) -> tuple[int, str] | None:
    """The reminder to post now: when several fell due while no process ran, the latest."""
    upcoming = request.next_reminder()
    if upcoming is None or upcoming[1] > at:
        return None
    n, due = upcoming
    rule, c = request.capsule.policy, request.capsule
    assert rule.remind_after_seconds is not None  # next_reminder said one is due
    while n < rule.max_reminders:
        later = after(c.created_at, rule.remind_after_seconds * (n + 1))
        if later > at or later >= c.expires_at:
            break
        n, due = n + 1, later
    return n, due


async def fire_due(
    request: ApprovalRequest,
    *,
    policy: Policy,
    clock: Clock,
    groups: GroupResolver,
    runs_nothing: RunsNothing | None = None,
) -> list[Step]:
    """Do what is due for this request now; the records say what was done before.
    ``runs_nothing``: why approving it would run nothing (then no quorum decides it, and
    a reminder says so rather than ask for an approval)."""
    if request.decision() is not None:
        return []
    now = clock.now()
    at = utc_iso(now)
    if expired(request.capsule, now):
        return []  # the expiry sweep decides it
    call = request.current()
    if call.edit:
        request.queue_card(f"edit-{call.edit}")  # a crash may have come before the edit's
    gone = runs_nothing(request) if runs_nothing is not None else None
    completed = await complete_quorum(
        request, call=call, policy=policy, groups=groups, runs_nothing=gone
    )
    if isinstance(completed, Unchecked):
        # Slack cannot say whether its approvers may still decide: asked again next pass.
        log.info("quorum of %s not completed yet: %s", request.id, completed)
        request.arm_timer(at)
    elif completed is not None:
        return [QuorumCompleted(request, completed)]
    steps: list[Step] = []
    rule = request.capsule.policy
    due = request.escalation_due()
    if due is not None and due <= at:
        # Never the requester (an on-call rota may name them): they still may not decide,
        # so nothing may say they were added; nor an approver of both the captured rule
        # and the rule in force, who could decide from the start (and may have approved):
        # one the policy in force dropped may decide only as escalated. Nor one the
        # policy in force no longer escalates to (off the rota since the request was
        # asked): both rules must allow an approver, escalated ones too. Recorded even
        # when nobody is left: it is due.
        listed = {*rule.approver_users, *rule.approver_groups}
        now_rule = policy.rule_for(request.capsule.tool)
        if not now_rule.open_to_anyone:
            listed &= {*now_rule.approver_users, *now_rule.approver_groups}
        skip = {*request.capsule.askers, *listed}
        if not now_rule.open_to_anyone:
            still = {*now_rule.escalate_users, *now_rule.escalate_groups}
            skip |= {*rule.escalate_users, *rule.escalate_groups} - still
        escalation = request.write_escalation(
            Escalation(
                approval_id=request.id,
                due_at=due,
                at=at,
                added_users=tuple(u for u in rule.escalate_users if u not in skip),
                added_groups=tuple(g for g in rule.escalate_groups if g not in skip),
            )
        )
        steps.append(Escalated(request, escalation))
    # Not while the card is on its way to another channel: the post could not go by it
    # yet. The marker stays (next_due), so once it is posted the latest due one goes.
    latest = None
    if request.approvers_thread() is not None:
        latest = _latest_due_reminder(request, at)
    if latest is not None:
        n, due_at = latest
        reminder = Reminder(
            approval_id=request.id,
            n=n,
            due_at=due_at,
            at=at,
            pinged=to_ping(request, call, policy),
        )
        if request.write_reminder(reminder):
            steps.append(Reminded(request, reminder))
    queue_posts(request, policy, cannot_run=gone if isinstance(gone, CannotRun) else None)
    return steps


async def sweep_timers(
    home: Home,
    *,
    policy: Policy,
    clock: Clock,
    groups: GroupResolver,
    runs_nothing: RunsNothing | None = None,
) -> list[Step]:
    """Take every due timer marker: do what is due, arm the next, then drop the marker."""
    timers, now = Timers(home), utc_iso(clock.now())
    timers.tidy(now)
    steps: list[Step] = []
    for name, approval_id in timers.due(now):
        try:
            request = ApprovalRequest.open(home, approval_id, clock=clock)
            seen = _progress(request)
            steps.extend(
                await fire_due(
                    request, policy=policy, clock=clock, groups=groups, runs_nothing=runs_nothing
                )
            )
            following = request.arm_timer()
        except NotFoundError:
            timers.disarm(name)  # the request is gone (a deleted session): nothing to remind
            continue
        except (SessionsError, ApprovalsError) as exc:
            # Unreadable or tampered: it can never be decided, so nobody is reminded of it.
            log.warning("timer of %s dropped: %s", approval_id, exc)
            timers.disarm(name)
            continue
        except OSError as exc:
            # The disk, not the records (no permission, an I/O error): kept for the next
            # pass, and every other request's timers are still done in this one.
            log.warning("timer of %s kept for the next pass: %s", approval_id, exc)
            continue
        if following != name:
            timers.disarm(name)
            _look_again(request, seen, now)
    return steps


def _progress(request: ApprovalRequest) -> tuple[int, tuple[str, ...]]:
    """What a vote or an edit changes: the current edit, and who approved it."""
    call = request.current()
    return call.edit, request.approvals(call)


def _look_again(request: ApprovalRequest, seen: tuple[int, tuple[str, ...]], now: str) -> None:
    """A vote or an edit arms a marker "now", is written, arms it again, then decides. One
    written after this sweep looked, whose second arming this sweep's drop removed, would
    be left with no marker if its process died before deciding: arm one again."""
    try:
        if request.decision() is None and _progress(request) != seen:
            request.arm_timer(now)
    except (SessionsError, ApprovalsError) as exc:
        log.warning("timer of %s not looked at again: %s", request.id, exc)
