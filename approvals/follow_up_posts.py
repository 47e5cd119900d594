"""What a reminder and an escalation say in the card's thread, and whom they ping: the
posts ``governance`` queues for each record on file (``queue_posts``, a no-op once queued).
"""

from __future__ import annotations

from sessions import from_utc_iso, readable_utc

from .decision_checks import approvers_of, escalated_of, out_of_reach
from .governed import CurrentCall
from .outcomes import CannotRun
from .policy import Policy
from .records import Escalation, Reminder
from .request import ApprovalRequest

__all__ = ["duration_text", "queue_posts", "to_ping"]


def duration_text(seconds: float) -> str:
    """``7200`` → ``2h``; ``93600`` → ``1d 2h``; for people, not for parsing."""
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else ""]
    if not days:
        parts.append(f"{minutes}m" if minutes else "")
    return " ".join(p for p in parts if p) or f"{whole}s"


def _mention(item: str) -> str:
    return f"<!subteam^{item}>" if item.startswith("S") else f"<@{item}>"


def to_ping(request: ApprovalRequest, call: CurrentCall, policy: Policy) -> tuple[str, ...]:
    """Approvers (users and groups) who have not approved the current arguments yet."""
    done = set(request.approvals(call)) | set(request.capsule.askers)
    listed = [*(approvers_of(request, policy) or ()), *escalated_of(request, policy)]
    return tuple(dict.fromkeys(p for p in listed if p not in done))


def _waited(request: ApprovalRequest, until: str) -> str:
    """How long the request had waited by ``until``: callers pass when their record was
    written, not when it fell due, which after a time with no process was days earlier."""
    return duration_text(
        (from_utc_iso(until) - from_utc_iso(request.capsule.created_at)).total_seconds()
    )


def _reminder_text(
    request: ApprovalRequest, reminder: Reminder, policy: Policy, cannot_run: CannotRun | None
) -> str:
    c = request.capsule
    who = " ".join(_mention(p) for p in reminder.pinged)
    if cannot_run is not None:  # as a click to approve would be told: only a denial helps
        whom = f"{who}: it" if who else "It"
        return (
            f"⏰ Reminder {reminder.n} of {c.policy.max_reminders}: `{c.tool}` "
            f"(asked by <@{c.requester}>) has waited {_waited(request, reminder.at)} for a "
            f"decision. {whom} cannot be approved now: {cannot_run}. It expires at "
            f"{readable_utc(c.expires_at)}."
        )
    if out_of_reach(request, policy) is not None:  # as its card says: to approve is in vain
        whom = f"{who}: it" if who else "It"
        ask = f"{whom} cannot be approved under the policy in force, only denied"
    elif who:
        ask = f"{who}: please approve or deny it"
    elif approvers_of(request, policy) is None:
        ask = "Anyone but the requester may decide it"
    else:  # every approver listed has approved (the rest may come with an escalation)
        ask = "Nobody else may approve it now; it may still be denied"
    return (
        f"⏰ Reminder {reminder.n} of {c.policy.max_reminders}: `{c.tool}` "
        f"(asked by <@{c.requester}>) has waited {_waited(request, reminder.at)} for a "
        f"decision. {ask} on the card above; it expires at {readable_utc(c.expires_at)}."
    )


def _escalation_text(
    request: ApprovalRequest, escalation: Escalation, cannot_run: CannotRun | None
) -> str:
    c = request.capsule
    who = " ".join(_mention(p) for p in escalation.added)
    ask = "who may now approve or deny it on the card above"
    if cannot_run is not None:  # as the reminder says it
        ask = f"who may now decide it; it cannot be approved now: {cannot_run}"
    return (
        f"⏫ No decision on `{c.tool}` (asked by <@{c.requester}>) after "
        f"{_waited(request, escalation.at)}: escalated to {who}, {ask}. It expires at "
        f"{readable_utc(c.expires_at)}."
    )


def queue_posts(
    request: ApprovalRequest, policy: Policy, *, cannot_run: CannotRun | None = None
) -> None:
    """Queue the post of every reminder and escalation on record (no-op once queued);
    ``cannot_run``: why approving it would run nothing now, which a reminder and an
    escalation say rather than ask for an approval."""
    c = request.capsule
    escalation = request.escalation()
    if escalation is not None and escalation.added:
        pinged = (*escalation.added, c.requester)
        request.queue_post(
            "escalate",
            _escalation_text(request, escalation, cannot_run),
            mentions=pinged,
            by_card=True,
        )
        request.queue_card("escalated")
    for reminder in request.reminders():
        pinged = (*reminder.pinged, c.requester)
        text = _reminder_text(request, reminder, policy, cannot_run)
        request.queue_post(f"remind-{reminder.n}", text, mentions=pinged, by_card=True)
