"""One approval, from request to the model being told: the only owner of its files.

    requested ─▶ carded ─▶ decided(approved|denied|expired) ─▶ claimed ─▶ executed ─▶ told
        │  edited, voted, reminded, escalated          └─▶ stale (the call never started)

Each arrow is a create-only typed record beside the capsule (``records.py``); the
records beyond the decision itself are read and written by its bases, ``GovernedFiles``
(edits, votes) and ``FollowUpFiles`` (reminders, escalation, staleness). Whoever
moves an approval forward does it through an ``ApprovalRequest``, which also keeps the
two things outside the session directory in step: the thread's open-approval marker
(so the thread's worker sees a decision whatever state the asking session is in) and the
card's outbox entries (``CardPosts``: Slack shows the true state, whoever decided and
whenever) — and
the request's timer marker (``timers.py``), so its next reminder or escalation is found
without reading every request that waits.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path

from sessions import (
    AlreadyExistsError,
    ApprovalRow,
    Clock,
    CorruptRecordError,
    Home,
    NotFoundError,
    SystemClock,
    ThreadDir,
    check_session_id,
    create_only,
    failpoint,
    make_dirs,
    read_file,
)

from .capsule import Capsule, load_capsule, write_capsule
from .card_posts import CardPosts, card_entry_id
from .errors import AlreadyClaimedError, HashMismatchError
from .read_once import keep_opened, opened_in_pass
from .records import (
    Claim,
    Decision,
    Deferral,
    ExecutionResult,
    Pointer,
    Told,
    write_record,
)
from .sealing import seal_records
from .timers import Timers

__all__ = ["ApprovalRequest", "Stage", "card_entry_id"]


class Stage(StrEnum):
    REQUESTED = "requested"
    CARDED = "carded"
    DECIDED = "decided"
    CLAIMED = "claimed"
    EXECUTED = "executed"
    TOLD = "told"


class ApprovalRequest(CardPosts):
    """A handle on one approval's files; reads are fresh, writes are create-only."""

    def __init__(
        self,
        home: Home,
        capsule: Capsule,
        *,
        clock: Clock | None = None,
        session_dir: Path | None = None,
        listing: frozenset[str] | None = None,
    ) -> None:
        """``session_dir`` where the asking session is, when the caller knows; ``listing``
        the names of its ``approvals/`` as a scan found them (see ``GovernedFiles``)."""
        self.home = home
        self.capsule = capsule
        self.clock = clock or SystemClock()
        self.session_dir = session_dir or home.session_dir(capsule.session_id)
        self.listing = listing

    # finding and creating ---------------------------------------------------------
    @classmethod
    def open(cls, home: Home, approval_id: str, *, clock: Clock | None = None) -> ApprovalRequest:
        """The approval a button's id names, through its pointer (no index needed).

        Its arguments must still hash to its recorded hash, and that hash must be the one
        its card showed the approvers (HashMismatchError otherwise).
        """
        if (kept := opened_in_pass(home.root, approval_id)) is not None:
            return cls(home, kept[1], clock=clock, session_dir=kept[0])  # checked then
        path = home.pointer_path(approval_id)
        try:
            pointer = Pointer.model_validate_json(read_file(path))
        except FileNotFoundError as exc:
            raise NotFoundError(f"no approval {approval_id}") from exc
        except ValueError as exc:
            raise CorruptRecordError(f"approval pointer {approval_id}: {exc}") from exc
        session_dir = home.session_dir(check_session_id(pointer.session))
        request = cls(home, load_capsule(session_dir, approval_id), clock=clock)
        request.verify()
        keep_opened(home.root, approval_id, request.session_dir, request.capsule)
        return request

    @classmethod
    def create(cls, home: Home, capsule: Capsule, *, clock: Clock | None = None) -> ApprovalRequest:
        """Write the pointer, the capsule, the thread's marker, and queue its card.

        Pointer first, so a capsule is never unreachable by its id; a crash between the
        steps leaves the asking session running, and resuming it calls ``reopen``.
        """
        path = home.pointer_path(capsule.id)
        make_dirs(path.parent)  # a new shard: its name durable like the pointer's
        create_only(path, Pointer(session=capsule.session_id).model_dump_json().encode())
        write_capsule(home.session_dir(capsule.session_id), capsule)
        request = cls(home, capsule, clock=clock)
        request.reopen()
        return request

    def reopen(self) -> None:
        """Make sure a waiting approval is seen by its thread, has its card queued, and
        has its next reminder or escalation armed."""
        ThreadDir(self.home, self.thread).open_approval(self.id)
        self.queue_card("requested")
        self.arm_timer()

    def arm_timer(self, at: str | None = None) -> str | None:
        """Mark when the sweep must look at this request next (default: its next
        reminder or escalation; nothing when none is left); the marker's name."""
        due = at or self.next_due()
        return Timers(self.home).arm(self.id, due) if due else None

    # what happened so far ---------------------------------------------------------
    def decision(self) -> Decision | None:
        return self._read("decision", Decision)

    def claimed(self) -> Claim | None:
        return self._read("claim", Claim)

    def result(self) -> ExecutionResult | None:
        return self._read("result", ExecutionResult)

    def told(self) -> Told | None:
        return self._read("told", Told)

    def deferrals(self) -> list[Deferral]:
        """Attempts that found the tool unavailable, oldest first."""
        return list(self._sequence("deferred", Deferral))

    def defer(self, *, reason: str, at: str, retry_at: Callable[[int], str], boot: str) -> Deferral:
        """Record that the approved call could not start now; the approval stays unspent.
        ``retry_at(attempt)``: when to try again, from the attempt number recorded."""
        attempt = len(self.deferrals()) + 1
        while True:
            record = Deferral(
                approval_id=self.id,
                attempt=attempt,
                at=at,
                reason=reason,
                retry_at=retry_at(attempt),
                boot=boot,
            )
            try:
                write_record(self._path(f"deferred-{attempt}"), record)
            except AlreadyExistsError:
                attempt += 1  # another process recorded this attempt first
                continue
            return record

    def stage(self) -> Stage:
        for stage, present in (
            (Stage.TOLD, self._path("told")),
            (Stage.EXECUTED, self._path("result")),
            (Stage.CLAIMED, self._path("claim")),
            (Stage.DECIDED, self._path("decision")),
            (Stage.CARDED, self._path("card")),
        ):
            if present.exists():
                return stage
        return Stage.REQUESTED

    def verify(self) -> None:
        self.capsule.verify_hash()
        self.current()  # every edit hashes to what it says and follows the one before
        card = self.card()
        if card is not None and card.args_sha256 and card.args_sha256 != self.capsule.args_sha256:
            raise HashMismatchError(
                f"{self.id}: the card showed hash {card.args_sha256[:12]}, "
                f"the capsule now holds {self.capsule.short_hash}"
            )

    # moving forward ---------------------------------------------------------------
    def write_decision(self, decision: Decision) -> Decision | None:
        """The final decision; returns the one that already existed if someone was first."""
        try:
            write_record(self._path("decision"), decision)
        except AlreadyExistsError:
            return self.decision()
        return None

    def claim(self, *, by_session: str, at: str) -> Claim:
        """Start the approved call: at most once, across processes (I2)."""
        record = Claim(approval_id=self.id, session_id=by_session, at=at)
        try:
            write_record(self._path("claim"), record)
        except AlreadyExistsError as exc:
            raise AlreadyClaimedError(f"{self.id} was already started once") from exc
        return record

    def record_result(self, result: ExecutionResult) -> ExecutionResult:
        try:
            write_record(self._path("result"), result)
        except AlreadyExistsError:
            existing = self.result()
            assert existing is not None
            return existing
        return result

    def mark_told(self, *, session_id: str, at: str) -> None:
        """The outcome is being told in ``session_id``; the card shows the final state, and
        the records are sealed (``sealing``; after a crash before it, by telling it again)."""
        try:
            write_record(
                self._path("told"), Told(approval_id=self.id, session_id=session_id, at=at)
            )
        except AlreadyExistsError:
            pass
        failpoint("resume.after_told_record")
        seal_records(self.session_dir / "approvals", self.id, at=at)
        self.queue_card("decided")  # a no-op unless a crash cut the decider short
        self.queue_card("told")

    def finish(self) -> None:
        """The outcome is in the conversation: the thread no longer waits on this approval."""
        ThreadDir(self.home, self.thread).close_approval(self.id)

    # the index --------------------------------------------------------------------
    def row(self) -> ApprovalRow:
        c, decision, card, told = self.capsule, self.decision(), self.card(), self.told()
        # An approval that went stale is "approved" in the index, like one that ran and
        # failed: the outcome is in its records; the status says who decided what.
        return ApprovalRow(
            id=c.id,
            session_id=c.session_id,
            thread=c.thread,
            tool=c.tool,
            args_sha256=c.args_sha256,
            requester=c.requester,
            status=decision.verdict if decision else "pending",
            created_at=c.created_at,
            expires_at=c.expires_at,
            decided_by=" ".join(decision.deciders) if decision else None,
            decided_at=decision.at if decision else None,
            card_channel=card.channel if card else None,
            card_ts=card.ts if card else None,
            approvers=" ".join(
                [*c.policy.approver_users, *c.policy.approver_groups, *self.escalated_approvers()]
            ),
            told_in=told.session_id if told else None,
            co_requesters=c.askers[1:],
        )
