"""What happens to a capsule after it is written, each a create-only file beside it.

    approvals/<id>.json                the capsule
    approvals/<id>.card.json           where the card was posted (channel, ts)
    approvals/<id>.votes/<user>.json   one vote per person (quorum > 1); <user>.<n>.json
                                       their nth, once the ones before were discounted
    approvals/<id>.decision.json       the final decision: the first one wins (O_EXCL)
    approvals/<id>.claim.json          the approved call was started (idempotency key = id)
    approvals/<id>.result.json         and how it ended
    approvals/<id>.told.json           the session that told the model the outcome
    approvals/<id>.sealed.json         then each record's sha256 (``sealing.py``)
    approvals/<id>.deferred-<n>.json   the approved call's tool was unavailable (attempt n)
    approvals/<id>.edit-<n>.json       an approver edited the arguments (and approved them)
    approvals/<id>.votes-<n>/<user>.json   votes for the arguments of edit n
    approvals/<id>.reminder-<n>.json   reminder n was due and is queued in the thread
    approvals/<id>.escalated.json      more approvers were added and pinged
    approvals/<id>.stale.json          approved, but the call could not start in time

Plus ``$SIGNOFF_HOME/approvals/<id>``, a ``Pointer`` to the session, so that a button that
carries only the approval id finds its capsule without the index. Only ``request.py``
turns these names into paths.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import Field, SerializerFunctionWrapHandler, ValidationError, model_serializer

from sessions import CorruptRecordError, Record, create_only, read_file, record_problem

from .origin import Origin

__all__ = [
    "SYSTEM",
    "CardRef",
    "Claim",
    "Decision",
    "Deferral",
    "Edit",
    "Escalation",
    "ExecutionResult",
    "Pointer",
    "Reminder",
    "Stale",
    "Told",
    "Verdict",
    "Vote",
    "read_optional",
    "vote_key",
    "write_record",
]

Verdict = Literal["approved", "denied", "expired"]
# The decider recorded when signoff itself decides (an expiry).
SYSTEM = "signoff"
R = TypeVar("R", bound=Record)


class Pointer(Record):
    """``$SIGNOFF_HOME/approvals/<id>``: which session holds the capsule."""

    schema_version: Literal[1] = 1
    session: str


class CardRef(Record):
    schema_version: Literal[1] = 1
    approval_id: str
    channel: str
    ts: str
    # The hash the card showed: a decision is refused if the capsule no longer matches it.
    args_sha256: str = ""


class Vote(Record):
    # 2: the vote names the hash it approved (an edit resets a quorum). 3: and the
    # earlier approvals it found no longer counting. 4: and which of its person's
    # approvals of these arguments it is, or a discount names one past the first. 5: and
    # the organization it was cast from, when another than the installation's.
    schema_version: Literal[1, 2, 3, 4, 5] = 5
    approval_id: str
    user: str
    approve: bool
    at: str
    reason: str = ""
    # "" in a version-1 vote: the capsule's own hash (there were no edits then).
    args_sha256: str = ""
    # The earlier approvals of these arguments whose people the rules no longer allowed
    # to decide when this vote would have completed the quorum (they left the approver
    # group, the policy dropped them): those approvals count no more. Each is named as
    # ``key`` names a vote (an edit is its author's first approval).
    discounted: tuple[str, ...] = ()
    # Its person's nth approval of these arguments: one more is taken only once all
    # before it were discounted (they came back), so none counts twice.
    round: int = Field(default=1, ge=1)
    # Cast from another organization than the installation's (a Slack Connect guest a
    # rule named): asked again with it when the vote may complete a quorum, so a rule
    # since opened to ``anyone`` (the installation's people) no longer counts it. None: the
    # installation's own people, a terminal, and every vote written before version 5.
    origin: Origin | None = None

    @property
    def key(self) -> str:
        """Which approval this is, as a discount names it and its file is named."""
        return vote_key(self.user, self.round)

    @model_serializer(mode="wrap")
    def _as_older_versions_when_it_can(self, dump: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Written as the oldest version that reads it the same: a version from 2026-12-04
        # (a rollback the docs allow) knows up to version 2, one from 2026-12-07 up to 3,
        # and each refuses a field or a version it does not know (then it reads none of
        # the request's votes). A vote that discounts someone stays version 3 (read by
        # version 2, it would count whom it discounted); a person's second approval, or a
        # discount of one, version 4 (read by version 3, it would not count, or discount
        # all of that person's).
        # A guest's vote, version 5 (read by version 4, it would count wherever it came
        # from).
        data: dict[str, Any] = dump(self)
        if self.origin is not None:
            return data
        data.pop("origin", None)
        if self.round > 1 or any(_ROUND in k for k in self.discounted):
            data["schema_version"] = min(self.schema_version, 4)
            return data
        data.pop("round", None)
        if self.discounted:
            data["schema_version"] = min(self.schema_version, 3)
            return data
        data.pop("discounted", None)
        data["schema_version"] = min(self.schema_version, 2)
        return data


# Slack ids have no dot: "U0BOB" is Bob's first approval, "U0BOB.2" his second.
_ROUND = "."


def vote_key(user: str, round: int) -> str:
    return user if round == 1 else f"{user}{_ROUND}{round}"


class Decision(Record):
    # 2: which edit was approved, the capsule's own hash, and until when the call may start.
    schema_version: Literal[1, 2] = 2
    approval_id: str
    verdict: Verdict
    deciders: tuple[str, ...]
    at: str
    reason: str = ""
    # The hash the deciders were shown; execution refuses anything else (I1).
    args_sha256: str
    # The capsule's hash, as the model asked; differs from ``args_sha256`` after an edit.
    original_sha256: str = ""
    # The edit whose arguments were approved (0: the capsule's own).
    edit: int = 0
    # The approved call may start until then ("" = no limit): the second clock.
    valid_until: str = ""


class Edit(Record):
    """An approver changed the arguments, and by submitting them approved the new call."""

    # 2: and the organization it was made from, when another than the installation's.
    schema_version: Literal[1, 2] = 2
    approval_id: str
    n: int
    user: str
    at: str
    # The hash of the arguments the editor was shown and changed (the previous edit's,
    # or the capsule's): an edit of something no longer current is refused.
    base_sha256: str
    tool_version: str
    arguments: dict[str, Any]
    args_sha256: str
    changed: tuple[str, ...]
    reason: str = ""
    # As a vote's (``Vote.origin``): its author's approval, made from another organization
    # (a Slack Connect guest a rule named), is asked again with it when a vote would
    # complete the quorum. None: the installation's people, a terminal, every version 1.
    origin: Origin | None = None

    @model_serializer(mode="wrap")
    def _as_version_1_when_it_can(self, dump: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # A guest's edit is version 2 (read by version 1, its author's approval would count
        # wherever it came from); every other edit version 1, which every version reads.
        data: dict[str, Any] = dump(self)
        if self.origin is None:
            data.pop("origin", None)
            data["schema_version"] = 1
        return data


class Reminder(Record):
    """Reminder ``n`` was due; its post in the thread is queued under a fixed outbox id."""

    schema_version: Literal[1] = 1
    approval_id: str
    n: int
    due_at: str
    at: str
    pinged: tuple[str, ...]


class Escalation(Record):
    """No decision in time: these approvers were added to the request, and pinged."""

    schema_version: Literal[1] = 1
    approval_id: str
    due_at: str
    at: str
    added_users: tuple[str, ...]
    added_groups: tuple[str, ...]

    @property
    def added(self) -> tuple[str, ...]:
        return (*self.added_users, *self.added_groups)


class Stale(Record):
    """Approved, but the call could not start before ``valid_until``: it never runs."""

    schema_version: Literal[1] = 1
    approval_id: str
    session_id: str
    at: str
    valid_until: str


class Claim(Record):
    schema_version: Literal[1] = 1
    approval_id: str
    session_id: str
    at: str


class Told(Record):
    """The outcome reached the model in this session: the request is finished."""

    schema_version: Literal[1] = 1
    approval_id: str
    session_id: str
    at: str


class Deferral(Record):
    """An approved call that could not start (its tool was unavailable): not spent.

    One create-only record per attempt; the call is tried again from ``retry_at``, or at
    once by a process other than the one that recorded it (``boot``): a restart may come
    with the tool back.
    """

    schema_version: Literal[1] = 1
    approval_id: str
    attempt: int
    at: str
    reason: str
    retry_at: str
    boot: str


class ExecutionResult(Record):
    # 2: and whether any of the call ran (``ran``).
    schema_version: Literal[1, 2] = 2
    approval_id: str
    session_id: str
    at: str
    ok: bool
    output: str
    # The tool could not say whether it took effect (its server died mid-call).
    uncertain: bool = False
    # False: signoff sent the tool nothing (its MCP server down, the tool changed since
    # the approval, a program that could not start): "not run", never "ran: failed".
    # Only on signoff's own word; ``output`` says why, as the model was told.
    ran: bool = True

    @property
    def status(self) -> Literal["ok", "error", "uncertain"]:
        return "uncertain" if self.uncertain else ("ok" if self.ok else "error")

    @model_serializer(mode="wrap")
    def _as_version_1_when_it_can(self, dump: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # A call that ran is written as version 1, which every version reads; one refused
        # before it ran is version 2, which no earlier version reads (it finds the result
        # unreadable, as it would a damaged one, rather than say the call ran).
        data: dict[str, Any] = dump(self)
        if self.ran:
            data.pop("ran", None)
            data["schema_version"] = 1
        return data


def write_record(path: Path, record: Record) -> None:
    create_only(path, record.model_dump_json(indent=2).encode())


def read_optional(path: str | Path, model: type[R]) -> R | None:
    try:
        raw = read_file(path)
    except FileNotFoundError:
        return None
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise CorruptRecordError(f"{path}: {record_problem(exc)}") from exc
