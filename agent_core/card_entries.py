"""Card entries: an approval's card rendered from disk at send time, shown once per version.

A card entry of the outbox means "show this approval's card as it is now": the card is
rendered from the approval's files when it is sent, so however late or repeated, it shows
the truth. ``delivery`` sends a card entry as it sends any (in order, retried); what is
particular to cards is here: what the card must show (``card_view``), what Slack shows
already (``last_shown``: an unchanged card costs no call), and what follows once it is
shown (``card_shown``: a new card's place recorded, the index and observers told).
"""

from __future__ import annotations

import logging

from approvals import (
    ApprovalRequest,
    Decision,
    ExecutionResult,
    Policy,
    Stale,
    Told,
    approvers_of,
    escalated_of,
    escalation_to_come,
    quorum_of,
    self_approval_of,
    valid_for_of,
)
from approvals.decisions import votes_why
from sessions import CorruptRecordError, Index, OutboxDone, OutboxStore, failpoint

from .audit_outcome import call_started
from .observe import CardPosted, CardUpdated, Observer
from .surface import CardView, Delivered

__all__ = ["card_shown", "card_view", "last_shown", "refused_before", "waiting_for_tool"]

# Delivery's logger: these lines are part of delivering the card.
log = logging.getLogger("signoff.delivery")


def card_view(request: ApprovalRequest, policy: Policy | None = None) -> CardView:
    """The card as the approval's files say now (``policy``: the rules in force)."""
    call = request.current()
    decision = request.decision()
    result, stale, told = request.result(), request.stale(), request.told()
    rules = [request.capsule.policy]
    if policy is not None:
        rules.append(policy.rule_for(request.capsule.tool))
    return CardView(
        capsule=request.capsule,
        decision=decision,
        voters=request.approvals(call),
        result=result,
        started=call_started(request) if result is not None else None,
        card=request.card(),
        call=call,
        edits=tuple(request.edits()),
        escalation=request.escalation(),
        stale=stale,
        waiting_for_tool=waiting_for_tool(request, decision, result, stale=stale, told=told),
        told=told,
        reasons=tuple(request.reasons(decision)) if decision else (),
        require_reason=any(r.require_reason for r in rules),
        allow_edit=all(r.allow_edit for r in rules),
        quorum=quorum_of(request, policy) if policy is not None else 0,  # 0: the captured one
        valid_for=valid_for_of(request, policy),
        approvers=approvers_of(request, policy) if policy is not None else None,
        self_approval=self_approval_of(request, policy) if policy is not None else None,
        escalated=escalated_of(request, policy) if policy is not None else None,
        to_escalate=escalation_to_come(request, policy) if policy is not None else None,
    )


def waiting_for_tool(
    request: ApprovalRequest,
    decision: Decision | None,
    result: ExecutionResult | None,
    *,
    stale: Stale | None,
    told: Told | None,
) -> str:
    """Why the approved call has not started yet, its tool unavailable at its last try
    (a deferral), or "": said until it is claimed (a try found the tool back; the call may
    run for minutes before its result), goes stale or is refused (told)."""
    approved = decision is not None and decision.verdict == "approved"
    if not approved or result is not None or stale is not None or told is not None:
        return ""
    deferrals = request.deferrals()
    if not deferrals or request.claimed() is not None:
        return ""
    return deferrals[-1].reason


def last_shown(outbox: OutboxStore, request: ApprovalRequest, unreadable: set[str]) -> str:
    """The version the card showed last (from its done entries), or "". ``unreadable``: the
    entries whose result was found not to parse, each named once in a warning."""
    whys = ["requested", "decided", "deferred", "claimed", "told", "escalated", "stale"]
    edits = len(request.edits())
    whys += [f"edit-{n}" for n in range(1, edits + 1)]
    for edit in range(edits + 1):
        whys += [votes_why(edit, n) for n in range(1, len(request.votes(edit)) + 2)]
    ids = [f"card-{request.id}-{why}" for why in whys]
    done = [d for entry_id in ids if (d := _done(outbox, request, entry_id, unreadable))]
    shown = [d for d in done if d.shown and d.outcome != "failed"]
    # A thread's entries go out in queue order: the latest queued is what Slack shows.
    return max(shown, key=lambda d: d.entry.seq).shown if shown else ""


def refused_before(outbox: OutboxStore, request: ApprovalRequest) -> tuple[tuple[str, str], ...]:
    """(version, why) of each card entry Slack refused for good, from the thread's outbox
    records: whom that refusal was told to, a process started since tells no one again."""
    return tuple(
        (d.shown, d.error)
        for d in outbox.results(request.thread)
        if d.outcome == "failed" and d.shown and d.entry.approval_id == request.id
    )


def _done(
    outbox: OutboxStore, request: ApprovalRequest, entry_id: str, unreadable: set[str]
) -> OutboxDone | None:
    """How a card entry ended; a result that does not parse counts as not shown: the card
    is sent again, which costs a call (raised, no later version of it ever went out)."""
    try:
        return outbox.done(request.thread, entry_id)
    except CorruptRecordError as exc:
        if entry_id not in unreadable:
            unreadable.add(entry_id)
            log.warning("card result %s taken as not shown, unreadable: %s", entry_id, exc)
        return None


async def card_shown(
    request: ApprovalRequest,
    view: CardView,
    delivered: Delivered,
    *,
    index: Index | None,
    observer: Observer,
) -> None:
    """The surface showed ``view``: a new card's place is recorded, observers are told."""
    if view.card is None and delivered.ts:
        failpoint("card.after_post")
        request.record_card(channel=delivered.channel, ts=delivered.ts)
        await _mirror_card(index, request)
        c = request.capsule
        observer.emit(
            CardPosted(
                approval_id=c.id,
                session_id=c.session_id,
                thread=c.thread,
                tool=c.tool,
                ts=delivered.ts,
            )
        )
    elif view.card is not None:
        c = request.capsule
        observer.emit(
            CardUpdated(
                approval_id=c.id,
                session_id=c.session_id,
                thread=c.thread,
                tool=c.tool,
                version=view.version,
            )
        )


async def _mirror_card(index: Index | None, request: ApprovalRequest) -> None:
    """The index learns where the card is (look-ups by card, the Home tab's filter by
    channel); it may lag: the card file is the truth, and reindex reads it."""
    if index is None:
        return
    try:
        await index.put_approvals([request.row()])
    except Exception as exc:  # sqlite3 and aiosqlite errors: the card is posted all the same
        log.warning("index not told of card %s: %s", request.capsule.id, exc)
