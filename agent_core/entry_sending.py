"""Sending one outbox entry to the surface, and the record of how it ended.

``Delivery`` decides when each thread's entries go (lanes, order, retries); this is what
going means for each kind: a reply (unless a decision overtook it), a notice, a status
(only the last of a batch, rendered from the thread's records at send time), or an
approval's card, rendered from its files at send time and not sent at all when Slack
shows that version already (``card_entries``). An entry whose earlier attempt may have
landed is sent with ``check_first``, so the surface adopts what is in the thread instead
of posting it twice.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Literal

from approvals import ApprovalRequest, Policy, card_entry_id, overtaken
from approvals.policy_applied import RULES
from sessions import (
    Clock,
    Home,
    Index,
    OutboxDone,
    OutboxEntry,
    coordination_for,
    off_loop,
    utc_iso,
)

from .card_entries import card_shown, card_view, last_shown, refused_before
from .observe import Observer, ReplyPosted
from .surface import Surface
from .thread_status import agent_status

__all__ = ["EntrySender"]

log = logging.getLogger("signoff.delivery")


class EntrySender:
    def __init__(
        self,
        *,
        home: Home,
        surface: Surface,
        clock: Clock,
        policy: Policy | None,
        index: Index | None,
    ) -> None:
        self.home = home
        self.surface = surface
        self.clock = clock
        self.policy = policy
        self.outbox = coordination_for(home).outbox
        self.index = index
        # Entries whose last attempt may have landed: the surface looks before it posts.
        self.check_first: set[str] = set()
        self.attempts: dict[str, int] = {}  # failed attempts so far, for the backoff
        # Card entries whose result does not parse: named once, not at every send.
        self.unreadable: set[str] = set()
        # The version each card entry is trying to show: a refusal for good records it.
        self.showing: dict[str, str] = {}

    async def send(
        self, entry: OutboxEntry, batch: list[OutboxEntry], *, observer: Observer
    ) -> list[OutboxDone]:
        """Send ``entry`` (with every card entry of its approval in ``batch``): how each
        ended. Raises ``DeliveryError`` for delivery to retry or give up on."""
        check_first = entry.id in self.check_first
        results, shown = [entry], ""
        if entry.kind == "reply":
            if overtaken(self.home, post_id=entry.id, approval_id=entry.approval_id):
                return [self.done(entry, "skipped")]
            delivered = await self.surface.post_reply(entry, check_first=check_first)
        elif entry.kind == "notice":
            delivered = await self.surface.notify(entry)
        elif entry.kind == "status":
            later = batch[batch.index(entry) + 1 :]
            if any(e.kind == "status" for e in later):  # the last one says what is true then
                return [self.done(entry, "skipped")]
            status = await off_loop(agent_status, self.home, entry.thread)
            if status is None:  # a turn runs or is due: its own process shows it
                return [self.done(entry, "skipped")]
            delivered = await self.surface.show_status(entry, status)
        else:
            request = ApprovalRequest.open(self.home, entry.approval_id, clock=self.clock)
            # Every card entry of this approval in the batch is answered by one render.
            results = [e for e in batch if e.kind == "card" and e.approval_id == entry.approval_id]
            check_first = check_first or any(e.id in self.check_first for e in results)
            view = card_view(request, self.policy)
            rules = card_entry_id(request.id, RULES)
            if any(e.id.startswith(rules) for e in results):
                view = dataclasses.replace(view, refresh=True)
            shown = view.version
            if view.card is not None and last_shown(self.outbox, request, self.unreadable) == shown:
                card = view.card  # Slack shows this already: no call at all
                return [
                    self.done(e, "skipped", channel=card.channel, ts=card.ts, shown=shown)
                    for e in results
                ]
            view = dataclasses.replace(
                view, told_refused=lambda: refused_before(self.outbox, request)
            )
            self.showing[entry.id] = shown
            delivered = await self.surface.show_card(entry, view, check_first=check_first)
            await card_shown(request, view, delivered, index=self.index, observer=observer)
        if delivered.partly:
            log.warning("gave up on the rest of %s: %s", entry.id, delivered.partly)
        if entry.kind == "reply" and not delivered.adopted:
            observer.emit(ReplyPosted(session_id=entry.session_id, thread=entry.thread))
        outcome: Literal["sent", "adopted"] = "adopted" if delivered.adopted else "sent"
        return [
            self.done(
                item,
                outcome,
                channel=delivered.channel,
                ts=delivered.ts,
                error=delivered.partly,
                shown=shown,
            )
            for item in results
        ]

    def done(
        self,
        entry: OutboxEntry,
        outcome: Literal["sent", "adopted", "failed", "skipped"],
        *,
        channel: str = "",
        ts: str = "",
        error: str = "",
        shown: str = "",
    ) -> OutboxDone:
        # Every end of an entry comes here, sent or not (given up, skipped): one Slack
        # refused for good kept its notes for as long as the bot ran, one more each time.
        self.attempts.pop(entry.id, None)
        self.check_first.discard(entry.id)
        trying = self.showing.pop(entry.id, "")
        shown = shown or (trying if outcome == "failed" else "")
        return OutboxDone(
            id=entry.id,
            entry=entry,
            at=utc_iso(self.clock.now()),
            outcome=outcome,
            channel=channel,
            ts=ts,
            error=error[:500],
            shown=shown,
        )
