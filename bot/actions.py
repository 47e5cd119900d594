"""Approve and Deny clicks, and the deny-reason modal (design flow 5).

Each handler acks first (Slack allows 3 s), then works. A click is checked against
storage, never trusted: the button's value must be a well-formed approval id, the click
must come from the message the card was posted as, and the clicker is authorized now.
Whoever cannot decide, or comes too late, is told ephemerally; the request stays as it is.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from agent_core.engine import Engine
from approvals import (
    AlreadyDecided,
    AlreadyVoted,
    ApprovalsError,
    CardRef,
    Decided,
    Refused,
    VoteCounted,
    authorize,
    load_decision,
    locate,
    read_optional,
    record_path,
)
from sessions import SessionsError, check_approval_id

from .cards import APPROVE, DENY, DENY_MODAL, deny_modal
from .payloads import BlockActionsPayload, ViewSubmission
from .slack_surface import SlackSurface

__all__ = ["register_actions"]

log = logging.getLogger("signoff.actions")


class Clicks:
    def __init__(self, engine: Engine, surface: SlackSurface) -> None:
        self.engine = engine
        self.surface = surface

    async def _tell(self, channel: str, user: str, text: str) -> None:
        await self.surface.ephemeral(channel=channel, user=user, text=text)

    def _check(self, payload: BlockActionsPayload) -> tuple[str, CardRef | None] | str:
        """(approval id, card) for a genuine click, or why it is not one."""
        try:
            approval_id = check_approval_id(payload.actions[0].value)
            session_dir, _ = locate(self.engine.rt.home, approval_id)
        except SessionsError as exc:
            return (
                "This button does not name a request signoff knows."
                if "no approval" in str(exc)
                else "This button is not valid."
            )
        except ApprovalsError:
            return "This request failed its integrity check; it cannot be decided."
        card = read_optional(record_path(session_dir, approval_id, "card"), CardRef)
        c = payload.container
        if card is not None and (c.message_ts != card.ts or c.channel_id != card.channel):
            return "This button does not belong to that request's card."
        return approval_id, card

    async def decide(
        self, *, channel: str, user: str, approval_id: str, approve: bool, reason: str = ""
    ) -> None:
        try:
            result = await self.engine.decide(
                approval_id, user=user, approve=approve, reason=reason
            )
        except (SessionsError, ApprovalsError) as exc:
            # The details (paths, hashes) go to the log, not to the person clicking.
            log.warning("decision on %s refused: %s", approval_id, exc)
            await self._tell(
                channel,
                user,
                "This request cannot be decided: it failed its integrity check or cannot be "
                "read. An operator can run `signoff verify` to see why.",
            )
            return
        if isinstance(result, Refused):
            await self._tell(channel, user, f"You may not decide this request: {result.reason}.")
        elif isinstance(result, AlreadyDecided):
            d = result.decision
            who = ", ".join(f"<@{x}>" if x != "signoff" else "signoff (expiry)" for x in d.deciders)
            await self._tell(channel, user, f"Already decided: {d.verdict} by {who} at {d.at}.")
        elif isinstance(result, AlreadyVoted):
            await self._tell(
                channel, user, "You already approved this request; it needs someone else too."
            )
        elif isinstance(result, VoteCounted):
            await self._tell(
                channel, user, f"Your approval is counted: {result.approvals} of {result.quorum}."
            )
            session_dir = self.engine.rt.home.session_dir(result.capsule.session_id)
            card = read_optional(record_path(session_dir, approval_id, "card"), CardRef)
            if card is not None:
                await self.surface.show_votes(result.capsule, card, result.approvals)
        else:
            assert isinstance(result, Decided)


def register_actions(app: AsyncApp, engine: Engine, surface: SlackSurface) -> None:
    clicks = Clicks(engine, surface)

    async def on_click(ack: Any, body: dict[str, Any], client: Any) -> None:
        await ack()
        try:
            payload = BlockActionsPayload.model_validate(body)
        except ValidationError:
            log.warning("malformed block_actions payload")
            return
        channel = payload.channel.id if payload.channel else payload.container.channel_id or ""
        user = payload.user.id
        checked = clicks._check(payload)
        if isinstance(checked, str):
            await clicks._tell(channel, user, checked)
            return
        approval_id, _ = checked
        if payload.actions[0].action_id == APPROVE:
            await clicks.decide(channel=channel, user=user, approval_id=approval_id, approve=True)
            return
        # Deny: ask for an optional reason — but only someone who may still deny it.
        session_dir, capsule = locate(engine.rt.home, approval_id)
        existing = load_decision(session_dir, approval_id)
        refusal = await authorize(
            user=user,
            requester=capsule.askers,
            snapshot=capsule.policy,
            current=engine.rt.policy.rule_for(capsule.tool),
            groups=engine.rt.groups,
        )
        if existing is not None or refusal:
            # The real decision path says exactly why (already decided, or not allowed).
            await clicks.decide(channel=channel, user=user, approval_id=approval_id, approve=False)
            return
        # trigger_id lives ~3 s, so the modal opens now; the submission is authorized again.
        try:
            await client.views_open(
                trigger_id=payload.trigger_id, view=deny_modal(capsule, channel=channel)
            )
        except SlackApiError as exc:
            log.info(
                "could not open the deny modal (%s); denying without a reason",
                exc.response.get("error"),
            )
            await clicks.decide(channel=channel, user=user, approval_id=approval_id, approve=False)

    async def on_deny_reason(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        try:
            payload = ViewSubmission.model_validate(body)
            approval_id, _, channel = payload.view.private_metadata.partition("|")
            approval_id = check_approval_id(approval_id)
        except (ValidationError, SessionsError):
            log.warning("malformed deny-reason submission")
            return
        value = payload.view.state.values.get("reason", {}).get("reason", {}).get("value")
        reason = str(value).strip() if value else ""
        await clicks.decide(
            channel=channel,
            user=payload.user.id,
            approval_id=approval_id,
            approve=False,
            reason=reason,
        )

    app.action(APPROVE)(on_click)
    app.action(DENY)(on_click)
    app.view(DENY_MODAL)(on_deny_reason)
