"""What the bot and the CLI may ask the engine: clicks, permissions, what waits, history.

A mixin of ``Engine`` (so the bot still talks to one object); every answer is read
from disk through ``ApprovalRequest`` and the index, never kept in memory.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

from approvals import (
    ApprovalRequest,
    ApprovalsError,
    CannotRun,
    Capsule,
    CardRef,
    Origin,
    Outside,
    Stale,
    Unchecked,
    expired,
    may_decide,
)
from sessions import (
    CorruptRecordError,
    InvalidIdError,
    NotFoundError,
    SessionRecord,
    SessionRow,
    SessionsError,
    ThreadDir,
    ThreadKey,
    check_approval_id,
    off_loop,
)

from .approved_call import runs_nothing
from .card_entries import card_view
from .history import SessionHistory, ThreadHistory, decisions_of, thread_history
from .runtime import Runtime
from .surface import CardView
from .thread_status import AgentStatus, agent_status, recent_threads

__all__ = ["PendingApproval", "Queries", "decided_already"]


def decided_already(request: ApprovalRequest) -> str | None:
    """Why ``request`` can be decided or edited no more, or None while it is undecided.
    An approval that went stale says so: "already decided: approved" would read as if
    the call ran."""
    decision = request.decision()
    if decision is None:
        return None
    if request.stale() is not None:
        return (
            "it was approved, but went stale: it could not start in time and did not run; "
            "a fresh request is needed"
        )
    return f"it was already decided: {decision.verdict}"


@dataclass(frozen=True)
class PendingApproval:
    capsule: Capsule
    voters: tuple[str, ...]
    card: CardRef | None = None
    # The card as it stands (the edited call, if edited): buttons drawn from it are for it.
    view: CardView | None = None

    @property
    def arguments(self) -> dict[str, object]:
        """The call it now stands for: the edited arguments, once an approver edited them."""
        return self.view.arguments if self.view is not None else dict(self.capsule.arguments)

    @property
    def channel(self) -> str:
        """Where its card is (or will be): where people see it."""
        if self.card is not None:
            return self.card.channel
        return self.capsule.card_channel or self.capsule.thread.channel


def _where(row_channel: str, request: ApprovalRequest) -> str:
    card = request.card()
    return card.channel if card else (request.capsule.card_channel or row_channel)


class Queries:
    rt: Runtime

    def _button(self, value: str) -> ApprovalRequest | str:
        try:
            return ApprovalRequest.open(self.rt.home, check_approval_id(value), clock=self.rt.clock)
        except InvalidIdError:
            return "This button is not valid."
        except NotFoundError:
            return "This button does not name a request signoff knows."
        except (ApprovalsError, CorruptRecordError):
            return "This request failed its integrity check; it cannot be decided."

    async def check_home_click(
        self, value: str, *, visible: Callable[[str], Awaitable[bool]]
    ) -> Capsule | str:
        """The request a Home-tab button names, if that person's Home would list it: its
        card is in a channel they can see (``visible``), as ``pending_for`` filters. A
        payload says where it came from, and that cannot be trusted: a click "from a
        Home" must not reach a request whose card the clicker could never see."""
        request = self._button(value)
        if isinstance(request, str):
            return request
        if not await visible(_where(request.capsule.thread.channel, request)):
            return "This request is not on your Home tab."
        return request.capsule

    def check_click(
        self, value: str, *, channel: str | None, message_ts: str | None
    ) -> Capsule | str:
        """The request a button names, if the click came from that request's card; else why not."""
        request = self._button(value)
        if isinstance(request, str):
            return request
        card = request.card()
        if card is None:
            # Not posted, or posted and not yet recorded: a click can only come from the
            # channel it is (or will be) in, never from one the payload merely names.
            if channel != _where(request.capsule.thread.channel, request):
                return "This button does not belong to that request's card."
        elif message_ts != card.ts or channel != card.channel:
            return "This button does not belong to that request's card."
        return request.capsule

    def capsule(self, approval_id: str) -> Capsule:
        """The request an id names (verified: its hash, and the hash its card showed)."""
        return ApprovalRequest.open(self.rt.home, approval_id, clock=self.rt.clock).capsule

    def stale(self, approval_id: str) -> Stale | None:
        """Approved, but too late to start: the call never runs (None otherwise)."""
        return ApprovalRequest.open(self.rt.home, approval_id, clock=self.rt.clock).stale()

    async def may_decide(
        self, approval_id: str, *, user: str, origin: Origin | None = None
    ) -> str | None:
        """Why ``user`` may not decide this request now (decided, expired, not allowed)."""
        rt = self.rt
        request = ApprovalRequest.open(rt.home, approval_id, clock=rt.clock)
        decided = decided_already(request)
        if decided is not None:
            return decided
        if expired(request.capsule, rt.clock.now()):
            return "it has expired"
        return await may_decide(
            request, user=user, policy=rt.policy, groups=rt.groups, origin=origin
        )

    def cannot_run(self, approval_id: str) -> CannotRun | None:
        """Why approving this request would run nothing here (its tool left), or None:
        said at an Approve click, before a reason form is opened for it."""
        rt = self.rt
        why = runs_nothing(rt, ApprovalRequest.open(rt.home, approval_id, clock=rt.clock))
        return why if isinstance(why, CannotRun) else None  # Unchecked: a terminal's

    # reading ----------------------------------------------------------------------
    async def pending_for(
        self,
        user: str,
        *,
        visible: Callable[[str], Awaitable[bool]] | None = None,
        limit: int = 20,
        unchecked: Callable[[str, Unchecked], None] | None = None,
        origin: Origin | None = None,
        unplaced: Callable[[str], None] | None = None,
    ) -> list[PendingApproval]:
        """What ``user`` may decide now: the same check a click makes, per request
        (``origin``: the organization they act from, as their click would name it).

        ``visible(channel)`` limits it to requests whose card is in a channel the person
        can see (they are in): a request asked in a direct message shows where its card is.
        ``unchecked(approval_id, refusal)`` hears of each request left out only because who
        is in its approver group could not be learned (the list is then not the whole).
        ``unplaced(approval_id)``, given when ``origin`` is an outside one standing for an
        organization Slack would not name, hears of each request left out only for it.
        """
        rt, out = self.rt, []
        seen: dict[str, bool] = {}

        async def shown(channel: str) -> bool:
            if visible is None:
                return True
            if channel not in seen:
                seen[channel] = await visible(channel)
            return seen[channel]

        async for row in rt.index.iter_approvals(status="pending"):
            # A posted card never moves: its row says where it is, no need to read it.
            if row.card_channel and not await shown(row.card_channel):
                continue
            try:
                request = ApprovalRequest.open(rt.home, row.id, clock=rt.clock)
                if not await shown(_where(row.thread.channel, request)):
                    continue
                if request.decision() is not None or expired(request.capsule, rt.clock.now()):
                    continue
                refusal = await may_decide(
                    request, user=user, policy=rt.policy, groups=rt.groups, origin=origin
                )
                if isinstance(refusal, Outside) and unplaced is not None:
                    # Would they decide it from inside? Then only their organization, unknown,
                    # keeps it from them; else it is a verdict as any other.
                    refusal = await may_decide(
                        request, user=user, policy=rt.policy, groups=rt.groups
                    )
                    if refusal is None:
                        unplaced(row.id)
                        continue
                if refusal is not None:
                    if isinstance(refusal, Unchecked) and unchecked is not None:
                        unchecked(row.id, refusal)
                    continue
                view = card_view(request, rt.policy)
                out.append(PendingApproval(request.capsule, view.voters, request.card(), view))
            except (SessionsError, ApprovalsError):
                continue  # unreadable (a corrupt record): never shown, never in the way
            if len(out) >= limit:
                break
        return out

    async def waiting(self, *, limit: int = 200) -> list[PendingApproval]:
        """Every request still waiting for a decision (an operator's view), oldest first."""
        rt, out = self.rt, []
        async for row in rt.index.iter_approvals(status="pending"):
            try:
                request = ApprovalRequest.open(rt.home, row.id, clock=rt.clock)
            except (SessionsError, ApprovalsError):
                continue
            try:
                if request.decision() is not None:
                    continue
                view = card_view(request, rt.policy)
            except (SessionsError, ApprovalsError):  # a record unreadable: as asked
                out.append(PendingApproval(request.capsule, ()))
            else:
                out.append(PendingApproval(request.capsule, view.voters, view.card, view))
            if len(out) >= limit:
                break
        return out

    async def recent_threads(self, *, within_s: float = 120.0) -> list[ThreadKey]:
        return await recent_threads(self.rt.index, within_s=within_s)

    async def agent_status(self, thread: ThreadKey) -> AgentStatus | None:
        """What the thread's agent session must show now, from its records."""
        return await off_loop(agent_status, self.rt.home, thread)

    def thread_head(self, thread: ThreadKey) -> str | None:
        return ThreadDir(self.rt.home, thread).head()

    async def sessions(
        self, *, channel: str | None = None, states: Collection[str] = (), limit: int = 50
    ) -> list[SessionRow]:
        return await self.rt.index.sessions(channel=channel, states=tuple(states), limit=limit)

    # Read on signoff's disk threads: a long thread's trace takes seconds from a slow disk,
    # and every other thread's work waits on this loop meanwhile. Not asyncio's default
    # executor: plain tool functions fill it, and /signoff would wait for a slow tool.
    async def session(self, session_id: str) -> SessionRecord:
        return await off_loop(self.rt.store.load, session_id)

    async def history(self, session_id: str) -> ThreadHistory:
        return await off_loop(thread_history, self.rt.home, session_id)

    async def decisions_of(self, session_id: str) -> SessionHistory:
        """The session with its requests' decisions (what became of one that parked)."""
        return await off_loop(decisions_of, self.rt.home, session_id)
