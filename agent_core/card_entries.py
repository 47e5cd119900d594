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
    Deferral,
    Policy,
    approvers_of,
    quorum_of,
    self_approval_of,
    valid_for_of,
)
from approvals.decisions import votes_why
from sessions import CorruptRecordError, Index, OutboxDone, OutboxStore, failpoint

from .audit_outcome import call_started
from .observe import CardPosted, CardUpdated, Observer
from .surface import CardView, Delivered

__all__ = ["card_shown", "card_view", "last_deferral", "last_shown"]

# Delivery's logger: these lines are part of delivering the card.
log = logging.getLogger("signoff.delivery")


def card_view(request: ApprovalRequest, policy: Policy | None = None) -> CardView:
    """The card as the approval's files say now (``policy``: the rules in force)."""
    call = request.current()
    decision = request.decision()
    result = request.result()
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
        stale=request.stale(),
        deferral=last_deferral(request) if decision is not None and result is None else None,
        claim=request.claimed() if decision is not None and result is None else None,
        told=request.told(),
        reasons=tuple(request.reasons(decision)) if decision else (),
        require_reason=any(r.require_reason for r in rules),
        allow_edit=all(r.allow_edit for r in rules),
        quorum=quorum_of(request, policy) if policy is not None else 0,  # 0: the captured one
        valid_for=valid_for_of(request, policy),
        approvers=approvers_of(request, policy) if policy is not None else None,
        self_approval=self_approval_of(request, policy) if policy is not None else None,
    )


def last_deferral(request: ApprovalRequest) -> Deferral | None:
    """The last try of the approved call that found its tool unavailable, if any."""
    deferrals = request.deferrals()
    return deferrals[-1] if deferrals else None


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
