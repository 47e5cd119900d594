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
from dataclasses import dataclass
from typing import Any

from agent_core.engine import Engine
from approvals import ApprovalsError
from approvals.forms import Form, FormKind
from sessions import SessionsError

from .decision_answers import decided_by
from .slack_text import Mrkdwn, join, literal
from .unreadable_answers import notice_view

__all__ = [
    "NOT_READ",
    "REQUEST_GONE",
    "Submitted",
    "answer_gone",
    "form_to_submit",
    "spent_or_unknown",
]

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


@dataclass(frozen=True)
class Submitted:
    """The form a submission is; ``taken``: used up already (not to be taken again)."""

    form: Form
    taken: bool


SPENT = literal("This form was submitted already; the first submission counts, so nothing more ")
SPENT_ONLY = literal("This form was submitted already; nothing more was recorded. ")


async def form_to_submit(
    ack: Any, engine: Engine, *, kind: FormKind, form_key: str, user: str
) -> Submitted | None:
    """The form ``user`` submits: one signoff opened for them and not used up, or one used
    up by a submission that recorded nothing (a process killed in between: Slack showed
    an error over the form and the person sends it again); None when it is not theirs
    to submit, which the ack has then said in the form (``spent_or_unknown``)."""
    submitted = _form_to_submit(engine, kind=kind, form_key=form_key, user=user)
    if submitted is None:
        await answer_gone(ack, spent_or_unknown(engine, kind=kind, form_key=form_key, user=user))
        log.warning("%s submission for view %r by %s: not a form of theirs", kind, form_key, user)
    return submitted


def _form_to_submit(
    engine: Engine, *, kind: FormKind, form_key: str, user: str
) -> Submitted | None:
    try:
        form = engine.peek_form(kind=kind, form_key=form_key, user=user)
        if form is not None:
            return Submitted(form, taken=False)
        spent = engine.spent_form(kind=kind, form_key=form_key, user=user)
    except (SessionsError, ApprovalsError):  # a key no form has: not one signoff opened
        return None
    if spent is None or not spent.recorded_nothing:
        return None
    log.info("%s form %r used up with nothing recorded: submitted again", kind, form_key)
    return Submitted(spent.form, taken=True)


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
    decided = join(literal("The request is decided: "), decided_by(spent.decision), literal("."))
    if user not in spent.decision.deciders:
        # Not that the first counted: it may have recorded nothing (its process was killed
        # first) before someone else decided.
        return join(SPENT_ONLY, decided)
    return join(SPENT, literal("was recorded. "), decided)


async def answer_gone(ack: Any, text: Mrkdwn) -> None:
    """Ack with ``text`` in the form, within the ack's deadline (nothing asks Slack)."""
    await ack(response_action="update", view=notice_view(text))
