"""Clicks and modals of governance: Approve with a reason, and Edit & approve.

Like the deny modal (``actions.py``), every modal here is bound to the click that opened
it: the bot records the view id it opened for that person, with the hash of the
arguments the modal showed, and a submission for any other view, of another kind or from
anyone else is refused. What the clicker saw decides what an approval is for: the card's
actions block carries the short hash of the arguments it showed (``card_governance``),
and an approval of arguments that are no longer current is refused, never counted.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from pydantic import ValidationError
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from agent_core.arg_edit import GENERAL
from agent_core.engine import Engine
from approvals import ApprovalsError, Capsule, Origin
from sessions import SessionsError, ThreadKey

from .card_governance import EDIT, seen_hash
from .decision_answers import edit_answer
from .edit_modal import EDIT_MODAL, edit_errors, edit_modal, edit_values, modal_reason
from .form_refusals import (
    FormAnswers,
    answer_in_form,
    checked_in_time,
    decision_refusal,
    edit_refusal,
    may_not_edit,
)
from .listeners import failure, guarded
from .payloads import BlockActionsPayload, ViewSubmission, click_thread
from .reason_modal import APPROVE_MODAL, approve_modal
from .slack_text import Mrkdwn, escape, join, literal

__all__ = ["BLANK_REASON", "Answers", "approve_clicked", "register_governance"]

log = logging.getLogger("signoff.actions")

# Shown on a required reason left blank: the modal stays open to give one.
BLANK_REASON = "This tool needs a reason with every decision; write one."
UNREADABLE = "This request cannot be decided: it failed its integrity check or cannot be read."
NOT_RECORDED = literal("Your edit was not recorded: ")


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


def _edited_since(capsule: Capsule, seen: str | None, current: str) -> Mrkdwn | None:
    """What to tell a clicker whose card showed ``seen`` when the call is now ``current``."""
    if current.startswith(seen or capsule.args_sha256):
        return None
    return literal(
        f"The arguments of this request were edited after your card showed them (the call is "
        f"now hash `{current[:12]}`). Look at the card again, then decide."
    )


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
    if not engine.needs_reason(capsule.id) or (
        await engine.may_decide(capsule.id, user=user, origin=origin) is not None
    ):  # at once; or refused, and the decision says why
        await answers.decide(capsule, user=user, approve=True, seen_sha256=seen, origin=origin)
        return
    current = engine.current_hash(capsule.id)
    edited = _edited_since(capsule, seen, current)
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
            edited = _edited_since(
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
            form = engine.peek_form(
                kind="edit", form_key=payload.view.form_key, user=payload.user.id
            )
        except (ValidationError, SessionsError):
            await ack()
            log.warning("malformed edit submission")
            return
        if form is None:
            await ack()
            log.warning(
                "edit submission for view %r: not a form signoff opened for that person",
                payload.view.form_key,
            )
            return
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
        user, key = payload.user.id, payload.view.form_key
        base = form.args_sha256  # what the form showed: an edit of anything else is refused
        origin = answers.origin(payload.user.team_id)
        checked = await checked_in_time(
            ack, edit_refusal(answers, engine, capsule, user=user, base_sha256=base, origin=origin)
        )
        thread = engine.card_thread(capsule)
        if checked.refusal is not None:
            await answer_in_form(
                ack,
                checked.refusal,
                acked=checked.acked,
                engine=engine,
                kind="edit",
                form_key=key,
                user=user,
                tell=lambda text: answers.tell(thread, user, text),
            )
            return
        taken = engine.take_form(kind="edit", form_key=key, user=user)
        if not checked.acked:
            await ack()
        if taken is None:
            return  # the same view submitted twice: the first submission counts
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

    async def on_approve_reason(ack: Any, body: dict[str, Any]) -> None:
        try:
            payload = ViewSubmission.model_validate(body)
        except ValidationError:
            await ack()
            log.warning("malformed approve-reason submission")
            return
        reason = modal_reason(payload.view.state.values)
        if not reason:  # spaces pass Slack's own check of a required input
            await ack(response_action="errors", errors={"reason": BLANK_REASON})
            return
        user, key = payload.user.id, payload.view.form_key
        try:
            form = engine.peek_form(kind="approve", form_key=key, user=user)
            capsule = engine.capsule(form.approval_id) if form else None
        except (SessionsError, ApprovalsError):
            form = capsule = None
        if form is None or capsule is None:
            await ack()
            log.warning("approve-reason submission unreadable, or not a form signoff opened")
            return
        # Answered where its click was: on the Home tab for a modal opened from there.
        there = answers.of_form(key)
        seen, origin = form.args_sha256, there.origin(payload.user.team_id)
        checked = await checked_in_time(
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
        )
        thread = engine.card_thread(capsule)
        if checked.refusal is not None:
            await answer_in_form(
                ack,
                checked.refusal,
                acked=checked.acked,
                engine=engine,
                kind="approve",
                form_key=key,
                user=user,
                tell=lambda text: there.tell(thread, user, text),
            )
            return
        if not checked.acked:
            await ack()
        if engine.take_form(kind="approve", form_key=key, user=user) is None:
            return  # the same view submitted twice: the first submission counts
        await there.decide(
            capsule, user=user, approve=True, reason=reason, seen_sha256=seen, origin=origin
        )

    app.action(EDIT)(guarded(on_edit))
    app.view(EDIT_MODAL)(guarded(on_edit_submit))
    app.view(APPROVE_MODAL)(guarded(on_approve_reason))
