"""What the engine tells one person about their approvals (the Home tab asks these).

A mixin of ``Engine``, like ``Queries``: "your open requests", "recently decided", who a
change to an approval concerns, and which request a card message is. The index finds
the rows; every answer is then read from the approval's files, never from memory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from approvals import (
    ApprovalRequest,
    ApprovalsError,
    Capsule,
    CardRef,
    Decision,
    ExecutionResult,
    MembershipUnknown,
    Stale,
    Told,
    approvers_of,
    card_entry_id,
    escalated_of,
    quorum_of,
)
from sessions import ApprovalRow, SessionsError, ThreadKey, utc_iso

from .audit_outcome import call_started
from .card_entries import card_view, waiting_for_tool
from .runtime import Runtime

__all__ = ["Concerned", "DecidedApproval", "OpenRequest", "PersonQueries"]


@dataclass(frozen=True)
class OpenRequest:
    """A request still waiting, as its requester sees it."""

    capsule: Capsule
    voters: tuple[str, ...]
    card: CardRef | None
    # Approvals needed, as a decision counts them (the rule in force may ask more).
    quorum: int
    # The call it now stands for: the edited arguments, once an approver edited them.
    arguments: Mapping[str, object]
    # Approvers an escalation added (users and groups): they may decide it too.
    escalated: tuple[str, ...] = ()
    # Who may decide under both rules (``approvers_of``; None: as the capsule's rule says,
    # which is also right when both are open).
    approvers: tuple[str, ...] | None = None
    # Slack's reason its card could not be posted, for good (an archived channel, signoff
    # not in it); empty while it is posted, or may yet be.
    refused: str = ""

    @property
    def deciders(self) -> tuple[str, ...] | None:
        """The users and groups who may decide it (None: anyone but the requester)."""
        if self.approvers is not None:
            return self.approvers
        rule = self.capsule.policy
        return None if rule.open_to_anyone else (*rule.approver_users, *rule.approver_groups)


@dataclass(frozen=True)
class DecidedApproval:
    capsule: Capsule
    decision: Decision
    result: ExecutionResult | None
    card: CardRef | None
    # The call that was decided: the edited arguments, if an approver edited them.
    arguments: Mapping[str, object]
    # Approved, but it could not start in time: it never ran (the card says so too).
    stale: Stale | None = None
    # Its outcome reached the conversation (approved, no result, not stale: refused).
    told: Told | None = None
    # Whether the claimed call reached its tool (``CardView.started``).
    started: bool | None = None
    # Why the approved call has not started yet ("" if it is not waiting), as its card says.
    waiting_for_tool: str = ""


@dataclass(frozen=True)
class Concerned:
    """Whose view of their approvals a change to one request alters.

    ``anyone``: the rule lets anyone decide, so anyone's "waiting for you" may change.
    """

    people: frozenset[str]
    anyone: bool


class PersonQueries:
    rt: Runtime

    def _requests(self, rows: list[ApprovalRow]) -> list[ApprovalRequest]:
        out = []
        for row in rows:
            try:
                out.append(ApprovalRequest.open(self.rt.home, row.id, clock=self.rt.clock))
            except (SessionsError, ApprovalsError):
                continue  # unreadable or tampered: never shown as if it were fine
        return out

    async def requests_of(self, user: str, *, limit: int = 10) -> list[OpenRequest]:
        """Requests ``user`` made that still wait for a decision, newest first."""
        rows = await self.rt.index.requested_by(user, limit=limit)
        out = []
        for r in self._requests(rows):
            try:
                if r.decision() is None:
                    args = r.current().arguments
                    quorum = quorum_of(r, self.rt.policy)
                    card = r.card()
                    out.append(
                        OpenRequest(
                            r.capsule,
                            r.approvals(),
                            card,
                            quorum,
                            args,
                            escalated=escalated_of(r, self.rt.policy),
                            approvers=approvers_of(r, self.rt.policy),
                            refused="" if card is not None else self._card_refused(r),
                        )
                    )
            except (SessionsError, ApprovalsError):
                continue  # a record unreadable: never shown as if it were fine
        return out

    def _card_refused(self, request: ApprovalRequest) -> str:
        """Slack's reason, when it refused the request's first card for good (the outbox
        recorded that entry failed) and no later version was posted either."""
        entry = card_entry_id(request.id, "requested")
        try:
            done = self.rt.outbox.done(request.thread, entry)
        except SessionsError:
            return ""  # unreadable: the line says where the card was to go, as before
        return (done.error or "refused") if done is not None and done.outcome == "failed" else ""

    async def recently_decided(
        self, user: str, *, days: int = 7, limit: int = 10
    ) -> list[DecidedApproval]:
        """Decisions of the last ``days`` that ``user`` made or that were on their requests."""
        since = utc_iso(self.rt.clock.now() - timedelta(days=days))
        rows = await self.rt.index.decided_for(user, since=since, limit=limit)
        out = []
        for request in self._requests(rows):
            try:
                decision = request.decision()
                if decision is not None:
                    args = request.current().arguments
                    result, card, stale = request.result(), request.card(), request.stale()
                    told = request.told()
                    out.append(
                        DecidedApproval(
                            request.capsule,
                            decision,
                            result,
                            card,
                            args,
                            stale,
                            told,
                            started=call_started(request) if result is not None else None,
                            waiting_for_tool=waiting_for_tool(
                                request, decision, result, stale=stale, told=told
                            ),
                        )
                    )
            except (SessionsError, ApprovalsError):
                continue  # a record unreadable: never shown as if it were fine
        return out

    async def concerned(self, approval_id: str) -> Concerned:
        """Who asked, who voted or decided, and who may decide (groups resolved now)."""
        rt = self.rt
        request = ApprovalRequest.open(rt.home, approval_id, clock=rt.clock)
        capsule = request.capsule
        people = set(capsule.askers)
        # Approvals (not signoff's records), as counting reads them: a misnamed vote file
        # (``vote_files``) was cast by nobody, so concerns nobody.
        people.update(v.user for v in request.votes(counting=True) if v.approve)
        people.update(request.approvals())  # an editor approved by editing
        decision = request.decision()
        if decision is not None:
            people.update(decision.deciders)
        rules = (capsule.policy, rt.policy.rule_for(capsule.tool))
        anyone = any(rule.open_to_anyone for rule in rules)
        groups: list[str] = []
        for rule in rules:
            people.update(rule.approver_users)
            groups.extend(rule.approver_groups)
        escalation = request.escalation()
        if escalation is not None:
            people.update(escalation.added_users)
            groups.extend(escalation.added_groups)
        for group in dict.fromkeys(groups):
            try:
                people.update(await rt.groups.members(group))
            except MembershipUnknown:
                continue  # their Home is refreshed when they open it, or at the next change
        return Concerned(frozenset(people), anyone)

    def card_version(self, approval_id: str) -> str:
        """What the request's card shows now, in a word (``CardView.version``): a Home that
        showed another version of it is out of date."""
        request = ApprovalRequest.open(self.rt.home, approval_id, clock=self.rt.clock)
        return card_view(request, self.rt.policy).version

    async def approval_with_card(self, *, channel: str, ts: str) -> Capsule | None:
        """The request whose card is the message ``channel``/``ts``, if any."""
        row = await self.rt.index.approval_with_card(channel, ts)
        found = self._requests([row]) if row is not None else []
        return found[0].capsule if found else None

    def card_thread(self, capsule: Capsule) -> ThreadKey:
        """The thread a card's notes go to: the asking thread, or the card's own thread
        when it was posted elsewhere (a request from a direct message)."""
        try:
            card = ApprovalRequest(self.rt.home, capsule, clock=self.rt.clock).card()
        except (SessionsError, ApprovalsError):
            card = None
        if card is None or card.channel == capsule.thread.channel:
            return capsule.thread
        return ThreadKey(team=capsule.thread.team, channel=card.channel, thread_ts=card.ts)
