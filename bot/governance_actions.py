"""Clicks and modals of governance: Edit & approve, and (``approve_reason``) Approve
with a reason.

Like the deny modal (``actions.py``), every modal here is bound to the click that opened
it: the bot records the view id it opened for that person, with the hash of the
arguments the modal showed, and a submission for any other view, of another kind or from
anyone else is refused. What the clicker saw decides what an approval is for: the card's
actions block carries the short hash of the arguments it showed (``card_governance``),
and an approval of arguments that are no longer current is refused, never counted.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from agent_core.arg_edit import GENERAL
from agent_core.engine import Engine
from approvals import ApprovalsError
from sessions import SessionsError

from .approve_reason import register_approve_reason
from .card_governance import EDIT, seen_hash
from .decision_answers import edit_answer
from .edit_modal import EDIT_MODAL, edit_errors, edit_modal, edit_values, modal_reason
from .form_gone import NOT_READ, answer_gone, form_to_submit
from .form_refusals import (
    checked_form,
    edit_refusal,
    may_not_edit,
)
from .governance_answers import Answers, edited_since
from .listeners import failure, guarded
from .payloads import BlockActionsPayload, ViewSubmission, click_thread
from .slack_text import escape, join, literal

__all__ = ["register_governance"]

log = logging.getLogger("signoff.actions")

UNREADABLE = "This request cannot be decided: it failed its integrity check or cannot be read."
NOT_RECORDED = literal("Your edit was not recorded: ")


def register_governance(
    app: AsyncApp,
    engine: Engine,
    answers: Answers,
) -> None:
    async def on_edit(ack: Any, body: dict[str, Any], client: Any) -> None:
        await ack()
        try:
            payload = BlockActionsPayload.model_validate(body)
        except ValidationError:
            log.warning("malformed block_actions payload")
            return
        user, action, c = payload.user.id, payload.actions[0], payload.container
        checked = await answers.check_click(
            action.value, channel=c.channel_id, message_ts=c.message_ts, user=user
        )
        if isinstance(checked, str):
            answers.tell(click_thread(payload), user, literal(checked))
            return
        capsule = checked
        try:
            edited = edited_since(
                capsule, seen_hash(action.block_id), engine.current_hash(capsule.id)
            )
            origin = answers.origin(payload.user.team_id)
            form = None if edited else await engine.edit_form(capsule.id, user=user, origin=origin)
        except (SessionsError, ApprovalsError) as exc:
            log.warning("edit of %s refused: %s", capsule.id, exc)
            return
        if edited is not None or form is None:
            answers.tell(
                engine.card_thread(capsule), user, edited or literal("Look at the card again.")
            )
            return
        if isinstance(form, str):
            answers.tell(
                engine.card_thread(capsule),
                user,
                may_not_edit(form),
            )
            return
        view = edit_modal(form)
        if view is None:
            answers.tell(
                engine.card_thread(capsule),
                user,
                literal(
                    "Slack's form cannot show these arguments for editing; approve or deny them."
                ),
            )
            return
        key = engine.open_form(
            kind="edit", approval_id=capsule.id, user=user, args_sha256=form.args_sha256
        )
        try:
            await client.views_open(
                trigger_id=payload.trigger_id, view={**view, "external_id": key}
            )
        except (SlackApiError, KeyError, TypeError, ValueError) as exc:
            log.info("could not open the edit modal: %s", failure(exc))
            answers.tell(
                engine.card_thread(capsule),
                user,
                literal("Could not open the edit form; try again."),
            )

    async def on_edit_submit(ack: Any, body: dict[str, Any]) -> None:
        try:
            payload = ViewSubmission.model_validate(body)
        except ValidationError:
            await answer_gone(ack, NOT_READ)
            log.warning("malformed edit submission")
            return
        user, key = payload.user.id, payload.view.form_key
        submitted = await form_to_submit(ack, engine, kind="edit", form_key=key, user=user)
        if submitted is None:
            return
        form = submitted.form
        values = payload.view.state.values
        reason = modal_reason(values)
        typed: dict[str, Any] = {}
        try:
            typed = edit_values(values)
            arguments, problems = engine.check_edit(form.approval_id, values=typed)
            needed = engine.needs_reason(form.approval_id) and not reason
            capsule = engine.capsule(form.approval_id)
        except (SessionsError, ApprovalsError) as exc:
            # Said on the form, which stays open: closed, it reads as an edit recorded.
            await ack(
                response_action="errors", errors=edit_errors({GENERAL: UNREADABLE}, list(typed))
            )
            log.warning("edit of %s cannot be checked: %s", form.approval_id, exc)
            return
        if problems or needed:
            why = "this tool needs a reason" if needed else ""
            errors = edit_errors(problems, list(typed), reason=why)
            await ack(response_action="errors", errors=errors)
            return
        base = form.args_sha256  # what the form showed: an edit of anything else is refused
        origin = answers.origin(payload.user.team_id)
        thread = engine.card_thread(capsule)
        if not await checked_form(
            ack,
            edit_refusal(answers, engine, capsule, user=user, base_sha256=base, origin=origin),
            engine=engine,
            kind="edit",
            form_key=key,
            user=user,
            tell=lambda text: answers.tell(thread, user, text),
            taken=submitted.taken,
        ):
            return
        try:
            result = await engine.edit(
                form.approval_id,
                user=user,
                arguments=arguments,
                base_sha256=base,
                reason=reason,
                origin=origin,
            )
        except (SessionsError, ApprovalsError, ValueError) as exc:
            # The form is closed by now (acked above): the approver is told apart.
            log.warning("edit of %s refused: %s", form.approval_id, exc)
            answers.tell(
                engine.card_thread(capsule),
                user,
                join(NOT_RECORDED, escape(str(exc)), literal(".")),
            )
            return
        answer = edit_answer(result)
        if answer is not None:
            answers.tell(engine.card_thread(capsule), user, answer)

    app.action(EDIT)(guarded(on_edit))
    app.view(EDIT_MODAL)(guarded(on_edit_submit))
    register_approve_reason(app, engine, answers)
