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
refused.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any, Literal

from pydantic import ValidationError
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from agent_core.engine import Engine
from approvals import (
    AlreadyDecided,
    ApprovalsError,
    Capsule,
    MembershipUnknown,
)
from sessions import SessionsError, ThreadKey

from .cards import APPROVE, DENY
from .decision_answers import CANNOT_READ, what_to_tell
from .governance_actions import BLANK_REASON, approve_clicked, register_governance
from .home_tab import HomeTab
from .listeners import failure, guarded
from .logs import log_event
from .membership import COULD_NOT_CHECK, ChannelMembers
from .payloads import BlockActionsPayload, ViewSubmission, click_thread
from .reason_modal import DENY_MODAL, deny_modal
from .slack_text import Mrkdwn, literal

__all__ = ["register_actions"]

log = logging.getLogger("signoff.actions")

# Where an answer to a click goes: a thread (ephemeral there), or the clicker's Home tab.
Where = ThreadKey | Literal["home"] | None
HOME: Literal["home"] = "home"
_HOME_FORMS = 1000
_NOT_CHECKED = (
    f"{COULD_NOT_CHECK} whether you can see this request's channel just now; try again in a moment."
)
_NOT_IN = "You may not decide this request: you are not in the conversation its card is in."


class Clicks:
    def __init__(self, engine: Engine, home: HomeTab | None, members: ChannelMembers) -> None:
        self.engine = engine
        self.home = home
        self.members = members
        # Deny modals opened from a Home tab (their answer goes back there), newest last;
        # a modal never submitted is forgotten after a while.
        self.home_forms: dict[str, None] = {}

    def opened_from_home(self, form_key: str) -> None:
        self.home_forms[form_key] = None
        while len(self.home_forms) > _HOME_FORMS:
            del self.home_forms[next(iter(self.home_forms))]

    def submitted_from_home(self, form_key: str) -> bool:
        """Was the modal ``form_key`` opened by a click on a Home tab (answered there)?"""
        if form_key not in self.home_forms:
            return False
        del self.home_forms[form_key]
        return True

    async def check_home_click(self, value: str, *, user: str) -> Capsule | str:
        if self.home is None:  # no Home tab was published: no click can come from one
            return "This button does not belong to a card."
        home = self.home
        try:
            return await self.engine.check_home_click(
                # A decision: as Slack says now (a minute's cache keeps who left since).
                value,
                visible=lambda channel: home.can_see(channel, user, fresh=True),
            )
        except MembershipUnknown:  # fail closed, and say why
            return _NOT_CHECKED

    async def check_card_click(
        self, value: str, *, channel: str | None, message_ts: str | None, user: str
    ) -> Capsule | str:
        checked = self.engine.check_click(value, channel=channel, message_ts=message_ts)
        if isinstance(checked, str):
            return checked
        try:
            # Slack shows a card only to whoever can read its channel (check_click made sure
            # it is this one): a click from anyone else, forged or from someone removed since,
            # decides nothing. As Slack says now, as for a Home click.
            if channel is not None and await self.members.can_see(channel, user, fresh=True):
                return checked
        except MembershipUnknown:
            return _NOT_CHECKED
        return _NOT_IN

    async def still_sees(self, capsule: Capsule, *, user: str) -> str | None:
        """Why ``user`` may not decide ``capsule`` with a form they opened from its card or
        Home, or None: the decision is made at the submission, minutes after the click
        perhaps, and someone removed from its private channel or group DM meanwhile
        decides nothing asked there."""
        try:
            channel = self.engine.card_thread(capsule).channel
            return None if await self.members.can_see(channel, user, fresh=True) else _NOT_IN
        except MembershipUnknown:
            return _NOT_CHECKED

    def tell(self, where: Where, user: str, text: Mrkdwn) -> None:
        if where == HOME and self.home is not None:
            self.home.notice(user, text)
            return
        if not isinstance(where, ThreadKey):
            # Text for a person, which may quote what people wrote: kept at DEBUG only.
            log_event(log, "notice_undelivered", user=user, why="no thread", text=str(text))
            return
        key = f"{user.lower()}-{secrets.token_hex(6)}"
        self.engine.notify(where, user=user, text=text, key=key)

    async def decide(
        self,
        capsule: Capsule,
        *,
        user: str,
        approve: bool,
        where: Where,
        reason: str = "",
        seen_sha256: str | None = None,
    ) -> None:
        try:
            result = await self.engine.decide(
                capsule.id, user=user, approve=approve, reason=reason, seen_sha256=seen_sha256
            )
        except (SessionsError, ApprovalsError) as exc:
            # The details (paths, hashes) go to the log, not to the person clicking.
            log.warning("decision on %s refused: %s", capsule.id, exc)
            self.tell(where, user, CANNOT_READ)
            return
        stale = None
        if isinstance(result, AlreadyDecided) and result.decision.verdict == "approved":
            stale = self.engine.stale(capsule.id)
        answer = what_to_tell(result, stale=stale)
        if answer is not None:
            self.tell(where, user, answer)
        elif where == HOME and self.home is not None:
            self.home.clicked(user)


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

    async def decide(
        self,
        capsule: Capsule,
        *,
        user: str,
        approve: bool,
        reason: str = "",
        seen_sha256: str | None = None,
    ) -> None:
        where = self.where if self.where is not None else self.clicks.engine.card_thread(capsule)
        await self.clicks.decide(
            capsule,
            user=user,
            approve=approve,
            where=where,
            reason=reason,
            seen_sha256=seen_sha256,
        )


def _from_home(payload: BlockActionsPayload) -> bool:
    view = payload.view
    return payload.container.type == "view" and view is not None and view.type == "home"


def register_actions(app: AsyncApp, engine: Engine, *, home: HomeTab | None = None) -> None:
    clicks = Clicks(engine, home, ChannelMembers(app.client))

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
        try:
            if action.action_id == APPROVE:
                await approve_clicked(engine, _Answers(clicks, where), client, payload, capsule)
                return
            refusal = await engine.may_decide(capsule.id, user=user)
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
            await clicks.decide(capsule, user=user, approve=False, where=where)
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
            await clicks.decide(capsule, user=user, approve=False, where=where)

    async def on_deny_reason(ack: Any, body: dict[str, Any]) -> None:
        try:
            payload = ViewSubmission.model_validate(body)
            form = engine.peek_form(
                kind="deny", form_key=payload.view.form_key, user=payload.user.id
            )
            blank = form is not None and engine.needs_reason(form.approval_id)
        except (ValidationError, SessionsError, ApprovalsError):
            await ack()
            log.warning("malformed deny-reason submission")
            return
        value = payload.view.state.values.get("reason", {}).get("reason", {}).get("value")
        reason = str(value).strip() if value else ""
        if blank and not reason:  # spaces pass Slack's own check of a required input
            await ack(response_action="errors", errors={"reason": BLANK_REASON})
            return
        await ack()
        try:
            form = engine.take_form(
                kind="deny", form_key=payload.view.form_key, user=payload.user.id
            )
            approval_id = form.approval_id if form else None
        except SessionsError:
            log.warning("unreadable deny-reason submission")
            return
        if approval_id is None:
            log.warning(
                "deny-reason submission for view %r by %s: not a form signoff opened for them",
                payload.view.form_key,
                payload.user.id,
            )
            return
        capsule = engine_capsule(engine, approval_id)
        if capsule is None:
            return
        where: Where = engine.card_thread(capsule)
        if clicks.submitted_from_home(payload.view.form_key):
            where = HOME
        if (refusal := await clicks.still_sees(capsule, user=payload.user.id)) is not None:
            clicks.tell(where, payload.user.id, literal(refusal))
            return
        await clicks.decide(
            capsule, user=payload.user.id, approve=False, where=where, reason=reason
        )

    app.action(APPROVE)(guarded(on_click))
    app.action(DENY)(guarded(on_click))
    app.view(DENY_MODAL)(guarded(on_deny_reason))
    register_governance(app, engine, _Answers(clicks, None))


def engine_capsule(engine: Engine, approval_id: str) -> Capsule | None:
    """The capsule of a request named by a form (its card may be anywhere)."""
    try:
        return engine.capsule(approval_id)
    except (SessionsError, ApprovalsError) as exc:
        log.warning("deny form names %s, which cannot be read: %s", approval_id, exc)
        return None
