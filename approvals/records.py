"""What happens to a capsule after it is written, each a create-only file beside it.

    approvals/<id>.json                the capsule
    approvals/<id>.card.json           where the card was posted (channel, ts)
    approvals/<id>.votes/<user>.json   one vote per person (quorum > 1)
    approvals/<id>.decision.json       the final decision: the first one wins (O_EXCL)
    approvals/<id>.claim.json          the approved call was started (idempotency key = id)
    approvals/<id>.result.json         and how it ended
    approvals/<id>.told.json           the session that told the model the outcome

Plus ``$SIGNOFF_HOME/approvals/<id>``, a ``Pointer`` to the session, so that a button that
carries only the approval id finds its capsule without the index. Only ``request.py``
turns these names into paths.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, TypeVar

from pydantic import ValidationError

from sessions import CorruptRecordError, Record, create_only

__all__ = [
    "CardRef",
    "Claim",
    "Decision",
    "Deferral",
    "ExecutionResult",
    "Pointer",
    "Told",
    "Verdict",
    "Vote",
    "read_optional",
    "write_record",
]

Verdict = Literal["approved", "denied", "expired"]
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
    schema_version: Literal[1] = 1
    approval_id: str
    user: str
    approve: bool
    at: str
    reason: str = ""


class Decision(Record):
    schema_version: Literal[1] = 1
    approval_id: str
    verdict: Verdict
    deciders: tuple[str, ...]
    at: str
    reason: str = ""
    # The hash the deciders were shown; execution refuses anything else (I1).
    args_sha256: str


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
    schema_version: Literal[1] = 1
    approval_id: str
    session_id: str
    at: str
    ok: bool
    output: str
    # The tool could not say whether it took effect (its server died mid-call).
    uncertain: bool = False

    @property
    def status(self) -> Literal["ok", "error", "uncertain"]:
        return "uncertain" if self.uncertain else ("ok" if self.ok else "error")


def write_record(path: Path, record: Record) -> None:
    create_only(path, record.model_dump_json(indent=2).encode())


def read_optional(path: Path, model: type[R]) -> R | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise CorruptRecordError(f"{path}: {exc.errors()[0]['msg']}") from exc
