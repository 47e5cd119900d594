"""What follows up an approval on the clock: reminders and escalation while it waits, and
its going stale once approved (the second clock: its call did not start in time); when the
sweep must look at it next, and the thread where the posts for its approvers go. A base
of ``ApprovalRequest``, which owns these records; edits and votes are ``governed.py``'s.
"""

from __future__ import annotations

from sessions import AlreadyExistsError, ThreadKey

from .governed import GovernedFiles, after
from .records import CardRef, Escalation, Reminder, Stale, write_record

__all__ = ["FollowUpFiles"]


class FollowUpFiles(GovernedFiles):
    """Reads and writes the follow-up records of one approval (create-only)."""

    # reminders and escalation -----------------------------------------------------
    def reminders(self) -> list[Reminder]:
        found = []
        for n in range(1, self.capsule.policy.max_reminders + 1):
            record = self._read(f"reminder-{n}", Reminder)
            if record is not None:
                found.append(record)
        return found

    def write_reminder(self, reminder: Reminder) -> bool:
        try:
            write_record(self._path(f"reminder-{reminder.n}"), reminder)
        except AlreadyExistsError:
            return False
        return True

    def escalation(self) -> Escalation | None:
        return self._read("escalated", Escalation)

    def write_escalation(self, escalation: Escalation) -> Escalation:
        """The escalation on disk: this one, or the one another process wrote first."""
        try:
            write_record(self._path("escalated"), escalation)
        except AlreadyExistsError:
            existing = self.escalation()
            assert existing is not None
            return existing
        return escalation

    # the second clock -------------------------------------------------------------
    def stale(self) -> Stale | None:
        return self._read("stale", Stale)

    def write_stale(self, stale: Stale) -> Stale:
        try:
            write_record(self._path("stale"), stale)
        except AlreadyExistsError:
            existing = self.stale()
            assert existing is not None
            return existing
        return stale

    def escalated_approvers(self) -> tuple[str, ...]:
        escalation = self.escalation()
        return escalation.added if escalation is not None else ()

    # when the sweep must look next -------------------------------------------------
    def next_reminder(self) -> tuple[int, str] | None:
        """The next reminder's number and due time, or None when no more are due."""
        rule, c = self.capsule.policy, self.capsule
        if rule.remind_after_seconds is None or rule.max_reminders == 0:
            return None
        sent = [r.n for r in self.reminders()]
        n = max(sent, default=0) + 1
        if n > rule.max_reminders:
            return None
        due = after(c.created_at, rule.remind_after_seconds * n)
        return (n, due) if due < c.expires_at else None

    def escalation_due(self) -> str | None:
        """When escalation is due, or None (none configured, or done already)."""
        rule, c = self.capsule.policy, self.capsule
        if rule.escalate_after_seconds is None or self.escalation() is not None:
            return None
        due = after(c.created_at, rule.escalate_after_seconds)
        return due if due < c.expires_at else None

    def next_due(self) -> str | None:
        """When this request next needs the sweep: a reminder or an escalation, or every
        pass while the post of one on record waits for the card (``approvers_thread``)."""
        if self._path("decision").exists():
            return None
        reminder = self.next_reminder()
        times = [t for t in (reminder[1] if reminder else None, self.escalation_due()) if t]
        if self.approvers_thread() is None and (self.escalation() is not None or self.reminders()):
            # A fixed past time: one marker, taken every pass (no write per pass), kept
            # until the card is posted and the held posts are queued by its thread.
            times.append(self.capsule.created_at)
        return min(times) if times else None

    # where the approvers read -----------------------------------------------------
    def approvers_thread(self) -> ThreadKey | None:
        """The card's thread, where posts for the approvers go: the asking thread, or for
        a card in another channel (a request asked in a direct message, which they are
        not in) that card's own thread — None until it is posted, as a post queued there
        meanwhile would stay in the wrong thread (an outbox id is queued once)."""
        c = self.capsule
        card = self._read("card", CardRef)
        if card is None:
            return c.thread if c.card_channel in ("", c.thread.channel) else None
        if card.channel == c.thread.channel:
            return c.thread
        return ThreadKey(team=c.thread.team, channel=card.channel, thread_ts=card.ts)
