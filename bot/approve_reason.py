"""Approve with a reason: the click that opens the reason modal, and its submission.

The modal is bound to the click that opened it, with the hash of the arguments it showed:
a submission for any other view, or from anyone else, is refused, and so is one whose
arguments were edited meanwhile. A submitter who may no longer decide is answered in the
form (``form_refusals``).
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from agent_core.engine import Engine
from approvals import ApprovalsError, Capsule
from sessions import SessionsError

from .card_governance import seen_hash
from .edit_modal import modal_reason
from .form_gone import NOT_READ, REQUEST_GONE, answer_gone, form_to_submit
from .form_refusals import checked_form, decision_refusal
from .governance_answers import BLANK_REASON, Answers, edited_since
from .listeners import failure, guarded
from .payloads import BlockActionsPayload, ViewSubmission
from .reason_modal import APPROVE_MODAL, approve_modal
from .slack_text import literal

__all__ = ["approve_clicked", "register_approve_reason"]

log = logging.getLogger("signoff.actions")


async def approve_clicked(
    engine: Engine,
    answers: Answers,
    client: Any,
    payload: BlockActionsPayload,
    capsule: Capsule,
) -> None:
    """Approve: at once, or through a reason modal when the policy wants a reason."""
    user, seen = payload.user.id, seen_hash(payload.actions[0].block_id)
    origin = answers.origin(payload.user.team_id)
    if (
        not engine.needs_reason(capsule.id)
        or await engine.may_decide(capsule.id, user=user, origin=origin) is not None
        or engine.cannot_run(capsule.id) is not None
    ):  # at once; or refused, and the decision says why
        await answers.decide(capsule, user=user, approve=True, seen_sha256=seen, origin=origin)
        return
    current = engine.current_hash(capsule.id)
    edited = edited_since(capsule, seen, current)
    if edited is not None:
        answers.tell(engine.card_thread(capsule), user, edited)
        return
    key = engine.open_form(kind="approve", approval_id=capsule.id, user=user, args_sha256=current)
    answers.opened(key)
    try:
        view = approve_modal(capsule, args_sha256=current)
        await client.views_open(trigger_id=payload.trigger_id, view={**view, "external_id": key})
    except (SlackApiError, KeyError, TypeError, ValueError) as exc:
        log.info("could not open the approve modal: %s", failure(exc))
        answers.tell(
            engine.card_thread(capsule),
            user,
            literal("Could not open the form for a reason; try again."),
        )


def register_approve_reason(app: AsyncApp, engine: Engine, answers: Answers) -> None:
    async def on_approve_reason(ack: Any, body: dict[str, Any]) -> None:
        try:
            payload = ViewSubmission.model_validate(body)
        except ValidationError:
            await answer_gone(ack, NOT_READ)
            log.warning("malformed approve-reason submission")
            return
        reason = modal_reason(payload.view.state.values)
        if not reason:  # spaces pass Slack's own check of a required input
            await ack(response_action="errors", errors={"reason": BLANK_REASON})
            return
        user, key = payload.user.id, payload.view.form_key
        submitted = await form_to_submit(ack, engine, kind="approve", form_key=key, user=user)
        if submitted is None:
            return
        form = submitted.form
        try:
            capsule = engine.capsule(form.approval_id)
        except (SessionsError, ApprovalsError) as exc:
            await answer_gone(ack, REQUEST_GONE)
            log.warning("approve form names %s, which cannot be read: %s", form.approval_id, exc)
            return
        # Answered where its click was: on the Home tab for a modal opened from there.
        there = answers.of_form(key)
        seen, origin = form.args_sha256, there.origin(payload.user.team_id)
        thread = engine.card_thread(capsule)
        if not await checked_form(
            ack,
            decision_refusal(
                there,
                engine,
                capsule,
                user=user,
                approve=True,
                reason=reason,
                seen_sha256=seen,
                origin=origin,
            ),
            engine=engine,
            kind="approve",
            form_key=key,
            user=user,
            tell=lambda text: there.tell(thread, user, text),
            taken=submitted.taken,
        ):
            return
        await there.decide(
            capsule, user=user, approve=True, reason=reason, seen_sha256=seen, origin=origin
        )

    app.view(APPROVE_MODAL)(guarded(on_approve_reason))
