"""Where a click's answer goes, and what a click on a card or a Home tab is checked
against before anything is decided (``actions`` registers the handlers that use it).

A click is judged as Slack says now: whoever cannot see the conversation a card is in
(a private channel or group DM they left, or a payload from someone never in it) decides
nothing, by a click or by a form the click opened. Which organization it came from (its
``user.team_id``) goes to the engine as an ``Origin``; the policy says what that allows.
"""

from __future__ import annotations

import logging
import secrets
from typing import Literal

from agent_core.engine import Engine
from approvals import (
    AlreadyDecided,
    ApprovalsError,
    Capsule,
    Installation,
    MembershipUnknown,
    Origin,
    what_helps,
)
from sessions import SessionsError, ThreadKey

from .decision_answers import CANNOT_READ, what_to_tell
from .home_tab import HomeTab
from .logs import log_event
from .membership import COULD_NOT_CHECK, ChannelMembers
from .slack_text import Mrkdwn

__all__ = ["HOME", "Clicks", "Where"]

log = logging.getLogger("signoff.actions")

# Where an answer to a click goes: a thread (ephemeral there), or the clicker's Home tab.
Where = ThreadKey | Literal["home"] | None
HOME: Literal["home"] = "home"
_HOME_FORMS = 1000


def _not_checked(unknown: MembershipUnknown) -> str:
    return (
        f"{COULD_NOT_CHECK} whether you can see this request's channel"
        f"{what_helps(unknown.refused)}."
    )


_NOT_IN = "You may not decide this request: you are not in the conversation its card is in."


class Clicks:
    def __init__(
        self,
        engine: Engine,
        home: HomeTab | None,
        members: ChannelMembers,
        installation: Installation | None = None,
    ) -> None:
        self.engine = engine
        self.home = home
        self.members = members
        self.installation = installation
        # Deny modals opened from a Home tab (their answer goes back there), newest last;
        # a modal never submitted is forgotten after a while.
        self.home_forms: dict[str, None] = {}

    def origin(self, team: str | None) -> Origin | None:
        """Where a click naming ``team`` (its ``user.team_id``) comes from: a click that
        names none is counted as from outside (Slack always names one)."""
        if self.installation is None:
            return None
        return Origin(team=team or "", installation=self.installation)

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
        except MembershipUnknown as exc:  # fail closed, and say why
            return _not_checked(exc)

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
        except MembershipUnknown as exc:
            return _not_checked(exc)
        return _NOT_IN

    async def still_sees(self, capsule: Capsule, *, user: str) -> str | None:
        """Why ``user`` may not decide ``capsule`` with a form they opened from its card or
        Home, or None: the decision is made at the submission, minutes after the click
        perhaps, and someone removed from its private channel or group DM meanwhile
        decides nothing asked there."""
        try:
            channel = self.engine.card_thread(capsule).channel
            return None if await self.members.can_see(channel, user, fresh=True) else _NOT_IN
        except MembershipUnknown as exc:
            return _not_checked(exc)

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
        origin: Origin | None = None,
    ) -> None:
        answer = await self.answer(
            capsule,
            user=user,
            approve=approve,
            where=where,
            reason=reason,
            seen_sha256=seen_sha256,
            origin=origin,
        )
        if answer is not None:
            self.tell(where, user, answer)

    async def answer(
        self,
        capsule: Capsule,
        *,
        user: str,
        approve: bool,
        where: Where,
        reason: str = "",
        seen_sha256: str | None = None,
        origin: Origin | None = None,
    ) -> Mrkdwn | None:
        """Decide, and say what ``user`` is to be told of it (None: the card says it all;
        told where it belongs by the caller, which for a form is the form itself)."""
        try:
            result = await self.engine.decide(
                capsule.id,
                user=user,
                approve=approve,
                reason=reason,
                seen_sha256=seen_sha256,
                origin=origin,
            )
        except (SessionsError, ApprovalsError) as exc:
            # The details (paths, hashes) go to the log, not to the person clicking.
            log.warning("decision on %s refused: %s", capsule.id, exc)
            return CANNOT_READ
        stale = None
        if isinstance(result, AlreadyDecided) and result.decision.verdict == "approved":
            stale = self.engine.stale(capsule.id)
        answer = what_to_tell(result, stale=stale)
        if answer is None and where == HOME and self.home is not None:
            self.home.clicked(user)
        return answer
