"""A form's submission refused, answered in the form itself.

A decision through a modal (a reason, a denial's reason, an edit) is made when it is
submitted, minutes after the click perhaps: by then the person may have left the card's
channel, or someone else decided. Slack shows nothing of a submission but what its ack
says: acked empty, the modal closes as if the decision was taken, and an ephemeral in the
card's thread is easily missed (and refused by Slack, ``user_not_in_channel``, for someone
who left the channel). So each handler asks here before its ack, and a refusal replaces
the form with a notice that says why, in the words a click on the card gets. A decision
that comes in between the check and the record is still refused by the engine, and told
in the card's thread as before.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from agent_core.engine import Engine
from approvals import EDITED_MEANWHILE, ApprovalsError, Capsule, Origin
from approvals.forms import FormKind
from sessions import SessionsError

from .decision_answers import CANNOT_READ
from .slack_text import Mrkdwn, escape, join, literal
from .unreadable_answers import notice_view

__all__ = [
    "FormAnswers",
    "Refusal",
    "answer_in_form",
    "decision_refusal",
    "edit_refusal",
    "may_not_edit",
]

log = logging.getLogger("signoff.actions")


class FormAnswers(Protocol):
    async def still_sees(self, capsule: Capsule, *, user: str) -> str | None:
        """Why ``user`` may not decide ``capsule`` with a form submitted now, or None."""
        ...

    async def answer(
        self,
        capsule: Capsule,
        *,
        user: str,
        approve: bool,
        reason: str = "",
        seen_sha256: str | None = None,
        origin: Origin | None = None,
    ) -> Mrkdwn | None:
        """Decide, and what the person is to be told of it (None: the card says it)."""
        ...


@dataclass(frozen=True)
class Refusal:
    """What a refused submission's form says; None when the decision was taken after all
    (the rules changed in between): the form closes, the card says it."""

    text: Mrkdwn | None


def may_not_edit(why: str) -> Mrkdwn:
    return join(literal("You may not edit this request: "), escape(why))


async def decision_refusal(
    answers: FormAnswers,
    engine: Engine,
    capsule: Capsule,
    *,
    user: str,
    approve: bool,
    reason: str = "",
    seen_sha256: str | None = None,
    origin: Origin | None = None,
) -> Refusal | None:
    """Why ``user`` may not decide ``capsule`` by the form they submit now, or None;
    ``origin``: the organization the submission comes from (``user.team_id``)."""
    if (gone := await answers.still_sees(capsule, user=user)) is not None:
        return Refusal(literal(gone))
    try:
        if await engine.may_decide(capsule.id, user=user, origin=origin) is None:
            return None
    except (SessionsError, ApprovalsError) as exc:
        log.warning("form on %s refused: %s", capsule.id, exc)
        return Refusal(CANNOT_READ)
    # The decision path says exactly why (already decided, expired, not allowed), as it
    # does to a click; it records nothing it refuses.
    said = await answers.answer(
        capsule,
        user=user,
        approve=approve,
        reason=reason,
        seen_sha256=seen_sha256,
        origin=origin,
    )
    return Refusal(said)


async def edit_refusal(
    answers: FormAnswers,
    engine: Engine,
    capsule: Capsule,
    *,
    user: str,
    base_sha256: str,
    origin: Origin | None = None,
) -> Refusal | None:
    """Why ``user`` may not edit ``capsule`` by the form they submit now, which showed the
    arguments ``base_sha256``, or None; said as to a click on Edit."""
    if (gone := await answers.still_sees(capsule, user=user)) is not None:
        return Refusal(literal(gone))
    try:
        why = await engine.may_decide(capsule.id, user=user, origin=origin)
        if why is None and engine.current_hash(capsule.id) != base_sha256:
            why = EDITED_MEANWHILE
    except (SessionsError, ApprovalsError) as exc:
        log.warning("edit form on %s refused: %s", capsule.id, exc)
        return Refusal(CANNOT_READ)
    return None if why is None else Refusal(may_not_edit(why))


async def answer_in_form(
    ack: Any, refusal: Refusal, *, engine: Engine, kind: FormKind, form_key: str, user: str
) -> None:
    """Use the form up, and ack with its answer: the notice, or closed."""
    try:
        engine.take_form(kind=kind, form_key=form_key, user=user)
    except SessionsError as exc:
        log.warning("form %r could not be used up: %s", form_key, exc)
    if refusal.text is None:
        await ack()
        return
    await ack(response_action="update", view=notice_view(refusal.text))
