"""A form submission that records nothing, answered in the form.

Slack shows nothing of a ``view_submission`` but what its ack says: acked empty, the modal
closes and the person believes their decision was taken. A submission of a form signoff
did not open for this person (a forged or mistaken view, one whose record was pruned a
month after its request was decided), of one submitted already (sent twice: the first
counts), of one whose request cannot be found or read, or one signoff cannot read at all,
records nothing; the ack replaces the form with a notice saying so, as a refusal is said
(``form_refusals``).
"""

from __future__ import annotations

import logging
from typing import Any

from agent_core.engine import Engine
from approvals import ApprovalsError
from approvals.forms import FormKind
from sessions import SessionsError

from .decision_answers import decided_by
from .slack_text import Mrkdwn, join, literal
from .unreadable_answers import notice_view

__all__ = ["NOT_READ", "REQUEST_GONE", "answer_gone", "spent_or_unknown"]

log = logging.getLogger("signoff.actions")

NOT_READ = literal("signoff could not read this form, so nothing was recorded.")
REQUEST_GONE = literal(
    "This form is no longer current: its request could not be found or read, so nothing "
    "was recorded. An operator can run `signoff verify` to see why."
)
UNKNOWN = literal(
    "This form is no longer current: signoff has no record of it for you, so nothing was "
    "recorded. If the request still waits, use the buttons on its card again."
)
SPENT = literal("This form was submitted already; the first submission counts, so nothing more ")


def spent_or_unknown(engine: Engine, *, kind: FormKind, form_key: str, user: str) -> Mrkdwn:
    """What a submission of a form that is not (or no longer) ``user``'s to submit is told."""
    try:
        spent = engine.spent_form(kind=kind, form_key=form_key, user=user)
    except (SessionsError, ApprovalsError) as exc:  # a key no form has: not one signoff opened
        log.info("%s form %r: %s", kind, form_key, exc)
        spent = None
    if spent is None:
        return UNKNOWN
    if spent.decision is None:
        return join(SPENT, literal("was recorded."))
    decided = decided_by(spent.decision)
    return join(SPENT, literal("was recorded. The request is decided: "), decided, literal("."))


async def answer_gone(ack: Any, text: Mrkdwn) -> None:
    """Ack with ``text`` in the form, within the ack's deadline (nothing asks Slack)."""
    await ack(response_action="update", view=notice_view(text))
