"""What an approval shows in Slack: its card, queued for the outbox once per reason (the
sender renders it from the records as they are when it goes out), and signoff's own posts
about it, each under a fixed id so a crash and a retry never post it twice. A base of
``ApprovalRequest``, through which the rest of the lifecycle queues them.
"""

from __future__ import annotations

from sessions import AlreadyExistsError, Outbox, OutboxEntry, coordination_for, utc_iso

from .follow_ups import FollowUpFiles
from .records import CardRef, write_record

__all__ = ["CardPosts", "card_entry_id"]


def card_entry_id(approval_id: str, why: str) -> str:
    """The outbox entry that shows an approval's card as of ``why`` ("requested" first)."""
    return f"card-{approval_id}-{why}"


class CardPosts(FollowUpFiles):
    """Queues an approval's card and posts, and records where its card landed."""

    def card(self) -> CardRef | None:
        return self._read("card", CardRef)

    def queue_card(self, why: str) -> bool:
        """Queue "show this card as it is now" in Slack; once per ``why``."""
        entry = OutboxEntry(
            id=card_entry_id(self.id, why),
            kind="card",
            thread=self.thread,
            created_at=utc_iso(self.clock.now()),
            seq=Outbox.next_seq(),
            approval_id=self.id,
        )
        return coordination_for(self.home).outbox.enqueue(entry)

    def queue_post(
        self, key: str, text: str, *, mentions: tuple[str, ...] = (), by_card: bool = False
    ) -> bool:
        """Queue a message in the thread under the fixed id ``<key>-<approval id>``, so
        queueing it again (after a crash) is a no-op, and one that was sent never repeats.

        ``text`` is signoff's own wording; ``mentions`` are the ids (users, groups) it may
        ping, and the only ones that render as mentions. ``by_card``: for the approvers,
        in the card's thread (``approvers_thread``); False, nothing queued, while that
        card is not posted yet in another channel: the caller queues it again later.
        """
        thread = self.approvers_thread() if by_card else self.thread
        if thread is None:
            return False
        entry = OutboxEntry(
            id=f"{key}-{self.id}",
            kind="reply",
            thread=thread,
            created_at=utc_iso(self.clock.now()),
            seq=Outbox.next_seq(),
            text=text,
            session_id=self.capsule.session_id,
            # Marks signoff's own words about this approval (not a model's): the surface
            # may render its approver groups as mentions.
            approval_id=self.id,
            mentions=mentions,
        )
        return coordination_for(self.home).outbox.enqueue(entry)

    def record_card(self, *, channel: str, ts: str) -> CardRef:
        card = CardRef(
            approval_id=self.id, channel=channel, ts=ts, args_sha256=self.capsule.args_sha256
        )
        try:
            write_record(self._path("card"), card)
        except AlreadyExistsError:
            existing = self.card()
            assert existing is not None
            return existing
        return card
