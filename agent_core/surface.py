"""Where queued writes are delivered: the Slack bot implements this, tests record it.

The engine never calls a surface directly: everything it says is an outbox entry first
(``sessions.Outbox``), and ``delivery.Delivery`` hands each entry to a surface. So a
surface method may be called again for the same entry after a crash or an error whose
outcome was unknown; ``check_first`` then asks it to look for what already landed and
adopt it instead of posting twice.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from approvals import (
    Capsule,
    CardRef,
    CurrentCall,
    Decision,
    Edit,
    Escalation,
    ExecutionResult,
    Stale,
    Told,
    short_of_quorum,
)
from sessions import OutboxEntry, ThreadKey

from .thread_status import AgentStatus

__all__ = ["CardView", "Delivered", "DeliveryError", "RecordingSurface", "Surface"]


@dataclass(frozen=True)
class CardView:
    """What an approval's card must show now (rendered from disk at send time)."""

    capsule: Capsule
    decision: Decision | None = None
    voters: tuple[str, ...] = ()
    result: ExecutionResult | None = None
    # Whether the claimed call reached its tool (False: claimed, then stopped or cut off
    # before it; the result is no outcome of a run). None: not claimed, or not known.
    started: bool | None = None
    # Where the card is, once posted: then it is updated in place.
    card: CardRef | None = None
    # The call the approval now stands for (None: the capsule's own, never edited).
    call: CurrentCall | None = None
    edits: tuple[Edit, ...] = ()
    escalation: Escalation | None = None
    stale: Stale | None = None
    # Why the approved call has not started: its tool unavailable at its last try
    # (``card_entries.waiting_for_tool``); "" once it is claimed, or not waiting.
    waiting_for_tool: str = ""
    # The outcome reached the conversation (with no result and not stale: it was refused
    # when it was to start, and never runs).
    told: Told | None = None
    # (who, why) of the approvers who gave a reason (a decided card shows them).
    reasons: tuple[tuple[str, str], ...] = ()
    # A reason is needed to approve or deny (either rule says so).
    require_reason: bool = False
    # Approvers may edit the arguments (both rules allow it).
    allow_edit: bool = True
    # Approvals needed: the larger of the captured and the current rule's (0: the
    # capsule's own), as a decision counts them.
    quorum: int = 0
    # How long an approval would stay good for starting the call, as a decision gives it:
    # the shorter of the captured and the current rule's (None: unlimited, or the view
    # was made without the rules in force: then the capsule's own).
    valid_for: int | None = None
    # Who may decide under both rules (``approvers_of``; None: the capsule's rule says,
    # which is also right when both are open), and whether a requester may (both allow).
    approvers: tuple[str, ...] | None = None
    self_approval: bool | None = None
    # Whom the escalation added that the rule in force still escalates to
    # (``escalated_of``; None: the view was made without it, the record says).
    escalated: tuple[str, ...] | None = None
    # Whom an escalation still to come would add under the rule in force, none when it is
    # due after expiry (``escalation_to_come``; None: the captured rule's ``escalate_to``).
    to_escalate: tuple[str, ...] | None = None
    # Shown again because the rules in force changed since it was posted
    # (``approvals.policy_applied``): a card as first posted is then updated all the same.
    refresh: bool = False
    # (version, Slack's reason) of each card entry refused for good (``refused_before``),
    # read when a card is refused: not the thread's whole outbox log for every card sent.
    told_refused: Callable[[], tuple[tuple[str, str], ...]] = lambda: ()

    @property
    def deciders(self) -> tuple[str, ...]:
        """The users and groups named as the card's approvers (none: anyone)."""
        if self.approvers is not None:
            return self.approvers
        rule = self.capsule.policy
        return (*rule.approver_users, *rule.approver_groups)

    @property
    def requester_may_decide(self) -> bool:
        if self.self_approval is not None:
            return self.self_approval
        return self.capsule.policy.allow_self_approval

    @property
    def args_sha256(self) -> str:
        """The hash of the arguments the card shows (and an approval from it is for)."""
        return self.call.args_sha256 if self.call else self.capsule.args_sha256

    @property
    def needed(self) -> int:
        """How many approvals decide it, as the decision counts them."""
        return self.quorum or self.capsule.policy.quorum

    @property
    def arguments(self) -> dict[str, object]:
        return dict(self.call.arguments if self.call else self.capsule.arguments)

    @property
    def changed(self) -> bool:
        """Does it show more than the request as first posted (a decision, votes, an edit,
        an escalation)? Only then does a posted card need an update."""
        shown = self.decision is not None or self.voters or self.edits or self.escalation
        return bool(shown or self.refresh)

    @property
    def out_of_reach(self) -> tuple[str, ...] | None:
        """Waiting, and its quorum out of reach of whom both rules allow: who alone may
        still approve (a policy changed since it was asked); None when it can be reached,
        or cannot be told. Follows from what the version counts (the rules, escalation)."""
        if self.decision is not None or self.approvers is None:
            return None
        # An escalation that came counts whom the rule in force still escalates to, as a
        # click is judged; one still to come, whom it would add (it may add enough people).
        rule = self.capsule.policy
        if self.escalation is not None:
            later = self.escalation.added if self.escalated is None else self.escalated
        elif self.to_escalate is not None:
            later = self.to_escalate
        else:
            later = (*rule.escalate_users, *rule.escalate_groups)
        return short_of_quorum(
            deciders=self.deciders,
            escalated=later,
            quorum=self.needed,
            askers=self.capsule.askers,
            self_approval=self.requester_may_decide,
        )

    @property
    def refused(self) -> bool:
        """Approved and told, but never started, and not for lateness: refused at start."""
        approved = self.decision is not None and self.decision.verdict == "approved"
        return approved and self.told is not None and self.result is None and not self.stale

    @property
    def version(self) -> str:
        """What the card shows, in a word: two views with one version render the same."""
        verdict = self.decision.verdict if self.decision else "open"
        ran = "" if self.result is None else f"-{self.result.status}"
        ran += "-notrun" if self.result is not None and not self.result.ran else ""
        extra = f"-e{len(self.edits)}" if self.edits else ""
        extra += "-esc" if self.escalation else ""
        extra += "-stale" if self.stale else ""
        extra += "-refused" if self.refused else ""
        extra += "-waiting" if self.waiting_for_tool else ""
        return f"{verdict}{ran}-{len(self.voters)}{_who(self.voters)}{extra}{self._rules()}"

    def _rules(self) -> str:
        """The rules the card shows (who decides, how many, edit, how long), in a word: a
        policy changed since it was shown makes it a new version."""
        shown: tuple[object, ...] = (self.needed, self.deciders, self.allow_edit, self.valid_for)
        rules = (*shown, self.requester_may_decide, self.require_reason, self.escalated)
        if (alone := self.out_of_reach) is not None:  # an escalation dropped or due too late
            rules += (alone,)
        return f"-r{zlib.crc32(repr(rules).encode()) & 0xFFFFFF:06x}"


def _who(voters: tuple[str, ...]) -> str:
    """Who approved, in a word: a vote that takes the place of one that lapsed (its voter
    left the approver group) keeps the count, but the card must name the new voter."""
    if not voters:
        return ""
    return f"v{zlib.crc32(','.join(voters).encode()) & 0xFFFFFF:06x}"


@dataclass(frozen=True)
class Delivered:
    channel: str = ""
    ts: str = ""
    # Found already in the thread (an earlier attempt had landed), not posted now.
    adopted: bool = False
    # Only part of it is in the thread (Slack refused the rest for good): what landed and
    # why the rest did not, recorded as the entry's error ("posted in part (2 of 5): …").
    partly: str = ""


class DeliveryError(Exception):
    """A delivery that did not happen (or may have): what to do next is in the fields.

    ``permanent``: retrying cannot help (channel gone, archived): record and move on.
    ``retry_after``: seconds the far side asked us to wait (a 429).
    ``ambiguous``: it may have landed (a 5xx, a dropped connection): look before retrying.
    """

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        ambiguous: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after
        self.ambiguous = ambiguous


class Surface(Protocol):
    async def ready(self, entry: OutboxEntry) -> None:
        """Wait (bounded) until ``entry`` can be sent: a streamed reply waits for its turn's
        calls. Delivery waits here without holding a lane."""
        ...

    async def post_reply(self, entry: OutboxEntry, *, check_first: bool) -> Delivered: ...

    async def show_card(
        self, entry: OutboxEntry, view: CardView, *, check_first: bool
    ) -> Delivered: ...

    async def notify(self, entry: OutboxEntry) -> Delivered: ...

    async def show_status(self, entry: OutboxEntry, status: AgentStatus) -> Delivered:
        """The thread's agent session shows ``status`` (best effort: a workspace may
        lack agent sessions)."""
        ...


@dataclass
class RecordingSurface:
    """Keeps everything delivered, for tests and the terminal demo.

    ``replies``, ``cards`` (each card posted) and ``updates`` (each decided card shown)
    keep the shapes tests read; ``delivered`` keeps every entry id, so a test can count
    duplicates.
    """

    replies: list[tuple[ThreadKey, str]] = field(default_factory=list)
    cards: list[Capsule] = field(default_factory=list)
    updates: list[tuple[str, Decision]] = field(default_factory=list)
    notices: list[tuple[str, str]] = field(default_factory=list)
    statuses: list[tuple[ThreadKey, str]] = field(default_factory=list)
    delivered: list[str] = field(default_factory=list)
    echo: bool = False

    async def ready(self, entry: OutboxEntry) -> None:
        return None

    async def post_reply(self, entry: OutboxEntry, *, check_first: bool) -> Delivered:
        if check_first and entry.id in self.delivered:
            return Delivered(entry.thread.channel, "", adopted=True)
        self.delivered.append(entry.id)
        self.replies.append((entry.thread, entry.text))
        if self.echo:
            print(f"  signoff › {entry.text}")
        return Delivered(entry.thread.channel, f"{1700000000 + len(self.delivered)}.000200")

    async def show_card(
        self, entry: OutboxEntry, view: CardView, *, check_first: bool
    ) -> Delivered:
        capsule, decision = view.capsule, view.decision
        self.delivered.append(entry.id)
        if view.card is None:
            self.cards.append(capsule)
            if self.echo:
                args = ", ".join(f"{k}={v!r}" for k, v in capsule.arguments.items())
                print(
                    f"  ┌ approval needed: {capsule.tool}({args})  hash {capsule.short_hash}\n"
                    f"  │ asked by {capsule.requester}; {capsule.policy.describe()}\n"
                    f"  └ expires {capsule.expires_at}   [Approve] [Deny]   id {capsule.id}"
                )
            ts = f"{1700000000 + len(self.cards)}.000100"
            if decision is None:
                return Delivered(capsule.card_channel or capsule.thread.channel, ts)
            view = CardView(
                capsule, decision, card=CardRef(approval_id=capsule.id, channel="", ts=ts)
            )
        if decision is not None and all(i != capsule.id for i, _ in self.updates):
            self.updates.append((capsule.id, decision))
            if self.echo:
                who = ", ".join(decision.deciders)
                print(f"  ┌ card {capsule.id} locked: {decision.verdict} by {who} at {decision.at}")
        card = view.card
        return Delivered(card.channel if card else "", card.ts if card else "")

    async def notify(self, entry: OutboxEntry) -> Delivered:
        self.delivered.append(entry.id)
        self.notices.append((entry.user, entry.text))
        return Delivered(entry.thread.channel, "")

    async def show_status(self, entry: OutboxEntry, status: AgentStatus) -> Delivered:
        self.delivered.append(entry.id)
        self.statuses.append((entry.thread, status))
        return Delivered(entry.thread.channel, "")
