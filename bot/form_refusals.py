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

The check may ask Slack (who is in a private channel, in an approver group), and Slack
shows an error over a submission not acked within 3 s, form still open, whatever came of
it. So it gets ``CHECK_WITHIN``: past that the form says the decision is still being
checked, and its outcome is told as a click's is (the card, or the thread or Home tab).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from agent_core.engine import Engine
from approvals import EDITED_MEANWHILE, ApprovalsError, Capsule, Origin
from approvals.forms import FormKind
from sessions import SessionsError

from .decision_answers import CANNOT_READ
from .form_gone import spent_or_unknown
from .slack_text import Mrkdwn, escape, join, literal
from .unreadable_answers import notice_view

__all__ = [
    "CHECK_WITHIN",
    "FormAnswers",
    "Refusal",
    "checked_form",
    "decision_refusal",
    "edit_refusal",
    "may_not_edit",
]

log = logging.getLogger("signoff.actions")

# Seconds a submission's check may take before its ack: Slack allows 3 s for the ack, and
# the round trip over the socket takes its share of them.
CHECK_WITHIN = 2.0
STILL_CHECKING = literal(
    "Slack is slow to answer signoff just now, so this is still being checked: the card "
    "will show your decision, or you will be told why not."
)


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
        if await engine.may_decide(capsule.id, user=user, origin=origin) is None and (
            not approve or engine.cannot_run(capsule.id) is None
        ):
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


async def checked_form(
    ack: Any,
    check: Awaitable[Refusal | None],
    *,
    engine: Engine,
    kind: FormKind,
    form_key: str,
    user: str,
    tell: Callable[[Mrkdwn], None],
    taken: bool = False,
    within: float = CHECK_WITHIN,
) -> bool:
    """``check`` a submission with its ack due, answer a refusal, and use the form up
    (``taken``: it was, by a submission that recorded nothing): True when the caller goes
    on to record it, the form acked; False when it was answered here. Past ``within``
    seconds the form says the decision is still being checked (acked now, while Slack
    still takes it) and the check goes on. A refusal uses the form up and is said in it,
    or ``tell``'s way (as a click's answer) to a form acked already; so is the same view
    submitted twice at once, whose other submission took the form and counts."""
    task = asyncio.ensure_future(check)
    try:
        done, _ = await asyncio.wait({task}, timeout=within)
        acked = task not in done
        if acked:
            await ack(response_action="update", view=notice_view(STILL_CHECKING))
        refusal = await task
    finally:
        task.cancel()  # a no-op once it is done; else the handler was cancelled
    if refusal is not None:
        try:
            engine.take_form(kind=kind, form_key=form_key, user=user)
        except SessionsError as exc:
            log.warning("form %r could not be used up: %s", form_key, exc)
        text = refusal.text
    elif taken or engine.take_form(kind=kind, form_key=form_key, user=user) is not None:
        if not acked:
            await ack()
        return True
    else:  # the same view submitted twice at once: the other submission counts
        text = spent_or_unknown(engine, kind=kind, form_key=form_key, user=user)
    if acked:
        if text is not None:
            tell(text)
    elif text is None:
        await ack()
    else:
        await ack(response_action="update", view=notice_view(text))
    return False
