"""What happens to a capsule after it is written, each a create-only file beside it.

    approvals/<id>.json                the capsule
    approvals/<id>.card.json           where the card was posted (channel, ts)
    approvals/<id>.votes/<user>.json   one vote per person (quorum > 1)
    approvals/<id>.decision.json       the final decision: the first one wins (O_EXCL)
    approvals/<id>.claim.json          the approved call was started (idempotency key = id)
    approvals/<id>.result.json         and how it ended
    approvals/<id>.told.json           the session that told the model the outcome

Plus ``$SIGNOFF_HOME/approvals/<id>``, a pointer to the session, so that a button that
carries only the approval id finds its capsule without the index.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import ValidationError

from sessions import (
    AlreadyExistsError,
    CorruptRecordError,
    Home,
    NotFoundError,
    Record,
    check_approval_id,
    check_session_id,
    create_only,
)

from .errors import AlreadyClaimedError

__all__ = [
    "CardRef",
    "Claim",
    "Decision",
    "ExecutionResult",
    "Told",
    "Verdict",
    "Vote",
    "claim",
    "read_optional",
    "record_path",
    "session_of",
    "write_pointer",
    "write_record",
]

Verdict = Literal["approved", "denied", "expired"]
R = TypeVar("R", bound=Record)


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


class ExecutionResult(Record):
    schema_version: Literal[1] = 1
    approval_id: str
    session_id: str
    at: str
    ok: bool
    output: str


def record_path(session_dir: Path, approval_id: str, suffix: str) -> Path:
    return session_dir / "approvals" / f"{check_approval_id(approval_id)}.{suffix}.json"


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


def claim(session_dir: Path, approval_id: str, *, by_session: str, at: str) -> Claim:
    record = Claim(approval_id=approval_id, session_id=by_session, at=at)
    try:
        write_record(record_path(session_dir, approval_id, "claim"), record)
    except AlreadyExistsError as exc:
        raise AlreadyClaimedError(f"{approval_id} was already started once") from exc
    return record


def _pointer(home: Home, approval_id: str) -> Path:
    return home.root / "approvals" / check_approval_id(approval_id)


def write_pointer(home: Home, approval_id: str, session_id: str) -> None:
    (home.root / "approvals").mkdir(parents=True, exist_ok=True)
    record = {"schema_version": 1, "session": session_id}
    create_only(_pointer(home, approval_id), json.dumps(record).encode())


def session_of(home: Home, approval_id: str) -> str:
    try:
        data: Any = json.loads(_pointer(home, approval_id).read_bytes())
    except FileNotFoundError as exc:
        raise NotFoundError(f"no approval {approval_id}") from exc
    except json.JSONDecodeError as exc:
        raise CorruptRecordError(f"approval pointer {approval_id}: {exc}") from exc
    return check_session_id(data.get("session") if isinstance(data, dict) else None)
