"""What the governance handlers (Approve with a reason, Edit & approve) ask of the clicks
they answer, and the words they share."""

from __future__ import annotations

from typing import Protocol

from approvals import Capsule, Origin
from sessions import ThreadKey

from .form_refusals import FormAnswers
from .slack_text import Mrkdwn, literal

__all__ = ["BLANK_REASON", "Answers", "edited_since"]

# Shown on a required reason left blank: the modal stays open to give one.
BLANK_REASON = "This tool needs a reason with every decision; write one."


class Answers(FormAnswers, Protocol):
    """What ``actions.Clicks`` does for these handlers: tell someone, record a decision
    (and, as ``FormAnswers``, check a form's submitter and answer in the form)."""

    def tell(self, thread: ThreadKey | None, user: str, text: Mrkdwn) -> None: ...

    def opened(self, form_key: str) -> None:
        """A modal was opened for this click (its submission is answered where it was)."""

    def of_form(self, form_key: str) -> Answers:
        """The answers for a submission of modal ``form_key``: where its click came from."""
        ...

    async def check_click(
        self, value: str, *, channel: str | None, message_ts: str | None, user: str
    ) -> Capsule | str:
        """The request a card's button names, if the click came from its card and from
        someone who can see it; else why not."""
        ...

    def origin(self, team: str | None) -> Origin | None:
        """The organization a payload naming ``team`` (``user.team_id``) comes from."""
        ...

    async def decide(
        self,
        capsule: Capsule,
        *,
        user: str,
        approve: bool,
        reason: str = "",
        seen_sha256: str | None = None,
        origin: Origin | None = None,
    ) -> None: ...


def edited_since(capsule: Capsule, seen: str | None, current: str) -> Mrkdwn | None:
    """What to tell a clicker whose card showed ``seen`` when the call is now ``current``."""
    if current.startswith(seen or capsule.args_sha256):
        return None
    return literal(
        f"The arguments of this request were edited after your card showed them (the call is "
        f"now hash `{current[:12]}`). Look at the card again, then decide."
    )
