"""Approve and Deny clicks, and the deny-reason modal (design flow 5).

Each handler acks first (Slack allows 3 s), then works. A click is checked against
storage, never trusted: ``Engine.check_click`` wants a well-formed approval id from the
message the card was posted as, from someone who can see that channel now (Slack shows
the card to no one else); ``Engine.decide`` authorizes the clicker now. The Home
tab shows the card's very buttons, so a click there runs the same handlers; it comes from
a view (``container.type == "view"``) and is checked with ``Engine.check_home_click``.

Whoever cannot decide, or comes too late, is told where they clicked: ephemerally in the
card's thread (``thread_ts`` from the click's container; queued like every Slack write),
or on top of their Home tab. The request stays as it is.

The deny modal is bound to the click that opened it: the bot records the view id it
opened for that person, and a submission for any other view, or from anyone else, is
refused. One from someone who may no longer decide is answered in the form, before its
ack (``form_refusals``).
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from agent_core.engine import Engine
from approvals import ApprovalsError, Capsule, Installation, Origin
from sessions import SessionsError, ThreadKey

from .approve_reason import approve_clicked
from .cards import APPROVE, DENY
from .clicks import HOME, Clicks, Where
from .decision_answers import CANNOT_READ
from .form_gone import NOT_READ, REQUEST_GONE, answer_gone, form_to_submit
from .form_refusals import checked_form, decision_refusal
from .governance_actions import register_governance
from .governance_answers import BLANK_REASON
from .home_tab import HomeTab
from .listeners import failure, guarded
from .membership import ChannelMembers
from .payloads import BlockActionsPayload, ViewSubmission, click_thread
from .reason_modal import DENY_MODAL, deny_modal
from .slack_text import Mrkdwn, literal

__all__ = ["register_actions"]

log = logging.getLogger("signoff.actions")


class _Answers:
    """``governance_actions.Answers`` for one click: answered where the click came from."""

    def __init__(self, clicks: Clicks, where: Where) -> None:
        self.clicks = clicks
        self.where = where

    def tell(self, thread: ThreadKey | None, user: str, text: Mrkdwn) -> None:
        self.clicks.tell(self.where if self.where is not None else thread, user, text)

    def opened(self, form_key: str) -> None:
        if self.where == HOME:
            self.clicks.opened_from_home(form_key)

    def of_form(self, form_key: str) -> _Answers:
        home = self.clicks.submitted_from_home(form_key)
        return _Answers(self.clicks, HOME) if home else self

    async def check_click(
        self, value: str, *, channel: str | None, message_ts: str | None, user: str
    ) -> Capsule | str:
        return await self.clicks.check_card_click(
            value, channel=channel, message_ts=message_ts, user=user
        )

    async def still_sees(self, capsule: Capsule, *, user: str) -> str | None:
        return await self.clicks.still_sees(capsule, user=user)

    def origin(self, team: str | None) -> Origin | None:
        return self.clicks.origin(team)

    async def decide(
        self,
        capsule: Capsule,
        *,
        user: str,
        approve: bool,
        reason: str = "",
        seen_sha256: str | None = None,
        origin: Origin | None = None,
    ) -> None:
        where = self.where if self.where is not None else self.clicks.engine.card_thread(capsule)
        await self.clicks.decide(
            capsule,
            user=user,
            approve=approve,
            where=where,
            reason=reason,
            seen_sha256=seen_sha256,
            origin=origin,
        )

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
        where = self.where if self.where is not None else self.clicks.engine.card_thread(capsule)
        return await self.clicks.answer(
            capsule,
            user=user,
            approve=approve,
            where=where,
            reason=reason,
            seen_sha256=seen_sha256,
            origin=origin,
        )


def _from_home(payload: BlockActionsPayload) -> bool:
    view = payload.view
    return payload.container.type == "view" and view is not None and view.type == "home"


def register_actions(
    app: AsyncApp,
    engine: Engine,
    *,
    home: HomeTab | None = None,
    installation: Installation | None = None,
) -> None:
    """``installation``: the organization signoff is installed in (``auth.test``), which
    an ``anyone`` rule is open to; None: clicks are not asked where they come from."""
    clicks = Clicks(engine, home, ChannelMembers(app.client), installation)

    async def on_click(ack: Any, body: dict[str, Any], client: Any) -> None:
        await ack()
        try:
            payload = BlockActionsPayload.model_validate(body)
        except ValidationError:
            log.warning("malformed block_actions payload")
            return
        user, action = payload.user.id, payload.actions[0]
        c = payload.container
        where: Where
        if _from_home(payload):
            where = HOME
            checked = await clicks.check_home_click(action.value, user=user)
        else:
            where = click_thread(payload)
            checked = await clicks.check_card_click(
                action.value, channel=c.channel_id, message_ts=c.message_ts, user=user
            )
        if isinstance(checked, str):
            clicks.tell(where, user, literal(checked))
            return
        capsule = checked
        if isinstance(where, ThreadKey) and where.team != capsule.thread.team:
            # A thread a home kept under the envelope's team before (``event_team``): its
            # answers go there, not to the installation's team the click names.
            where = engine.card_thread(capsule)
        try:
            if action.action_id == APPROVE:
                await approve_clicked(engine, _Answers(clicks, where), client, payload, capsule)
                return
            origin = clicks.origin(payload.user.team_id)
            refusal = await engine.may_decide(capsule.id, user=user, origin=origin)
            reason_required = engine.needs_reason(capsule.id)
        except (SessionsError, ApprovalsError) as exc:
            # Raised here, right after the ack, Bolt would withhold that ack (the person
            # sees an error) and tell them nothing; the details go to the log.
            log.warning("click on %s refused: %s", capsule.id, exc)
            clicks.tell(where, user, CANNOT_READ)
            return
        # Deny: ask for an optional reason, but only someone who may still deny it.
        if refusal is not None:
            # The decision path says exactly why (already decided, expired, not allowed).
            await clicks.decide(capsule, user=user, approve=False, where=where, origin=origin)
            return
        key = engine.open_form(
            kind="deny",
            approval_id=capsule.id,
            user=user,
            args_sha256=capsule.args_sha256,  # the hash the deny modal names
        )
        if where == HOME:
            clicks.opened_from_home(key)
        try:
            # trigger_id lives ~3 s, so the modal opens now; the submission is checked again.
            view = deny_modal(capsule, reason_required=reason_required)
            await client.views_open(
                trigger_id=payload.trigger_id, view={**view, "external_id": key}
            )
        except (SlackApiError, KeyError, TypeError, ValueError) as exc:
            log.info("could not open the deny modal (%s); denying without a reason", failure(exc))
            await clicks.decide(capsule, user=user, approve=False, where=where, origin=origin)

    async def on_deny_reason(ack: Any, body: dict[str, Any]) -> None:
        try:
            payload = ViewSubmission.model_validate(body)
        except ValidationError:
            await answer_gone(ack, NOT_READ)
            log.warning("malformed deny-reason submission")
            return
        user, key = payload.user.id, payload.view.form_key
        submitted = await form_to_submit(ack, engine, kind="deny", form_key=key, user=user)
        if submitted is None:
            return
        form = submitted.form
        try:
            capsule = engine.capsule(form.approval_id)
            blank = engine.needs_reason(form.approval_id)
        except (SessionsError, ApprovalsError) as exc:
            # The form is kept: a request unreadable for a moment may be denied by it later.
            await answer_gone(ack, REQUEST_GONE)
            log.warning("deny form names %s, which cannot be read: %s", form.approval_id, exc)
            return
        value = payload.view.state.values.get("reason", {}).get("reason", {}).get("value")
        reason = str(value).strip() if value else ""
        if blank and not reason:  # spaces pass Slack's own check of a required input
            await ack(response_action="errors", errors={"reason": BLANK_REASON})
            return
        origin = clicks.origin(payload.user.team_id)
        # Answered where its click was: on the Home tab for a modal opened from there.
        there = _Answers(clicks, None).of_form(key)
        thread = engine.card_thread(capsule)
        if not await checked_form(
            ack,
            decision_refusal(
                there, engine, capsule, user=user, approve=False, reason=reason, origin=origin
            ),
            engine=engine,
            kind="deny",
            form_key=key,
            user=user,
            tell=lambda text: there.tell(thread, user, text),
            taken=submitted.taken,
        ):
            return
        await there.decide(capsule, user=user, approve=False, reason=reason, origin=origin)

    app.action(APPROVE)(guarded(on_click))
    app.action(DENY)(guarded(on_click))
    app.view(DENY_MODAL)(guarded(on_deny_reason))
    register_governance(app, engine, _Answers(clicks, None))
