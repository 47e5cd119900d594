"""The answer to a click made in a Home, shown on top of it until it may no longer be true.

"Your approval is counted: 1 of 2." answers a click; kept for its time to live (a couple of
minutes: the person may look later), it must not outlive its truth: once a decision reported here (the engine's
``DecisionRecorded``, ``ApprovalExpired``) touches what the Home shows, a notice older
than it goes, for everyone it concerns but the person whose click decided (their own
notice says what their click did, which stays true). A change found only by reading again
(``home_watch``) leaves notices be: it may be the very vote a notice answers.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from .slack_text import Mrkdwn

__all__ = ["Notices"]


@dataclass(frozen=True)
class _Notice:
    text: Mrkdwn
    at: float  # time.monotonic() when it was given
    until: float


class Notices:
    def __init__(self, *, ttl: float) -> None:
        self.ttl = ttl
        self._notices: dict[str, _Notice] = {}
        # Decisions reported and not yet looked at: when (monotonic) and by whom.
        self._decided: dict[str, tuple[float, str]] = {}

    def give(self, user: str, text: Mrkdwn) -> None:
        now = time.monotonic()
        self._notices[user] = _Notice(text, now, now + self.ttl)

    def current(self, user: str) -> Mrkdwn | None:
        notice = self._notices.get(user)
        if notice is not None and notice.until < time.monotonic():
            del self._notices[user]
            return None
        return notice.text if notice else None

    def decided(self, approval_id: str, by: str) -> None:
        """``approval_id`` was decided just now by ``by`` ("": nobody, it expired)."""
        self._decided[approval_id] = (time.monotonic(), by)

    def concern(self, approval_id: str, people: Iterable[str]) -> None:
        """A change to ``approval_id`` concerns ``people``: if it was a decision, their
        notices from before it may no longer be true (the decider's: what they did)."""
        decided = self._decided.pop(approval_id, None)
        if decided is None:
            return  # a vote, an edit, a card: what a notice answered may stay true
        at, by = decided
        for person in people:
            notice = self._notices.get(person)
            if notice is not None and notice.at <= at and person != by:
                del self._notices[person]
