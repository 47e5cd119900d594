"""The approval capsule: the exact call a person is asked to approve.

A capsule is create-only and lives in the session that asked. What executes later is
read back from it, never re-asked of the model, and only if its arguments still hash to
the SHA-256 that the approver saw.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError, field_validator

from sessions import (
    CorruptRecordError,
    NotFoundError,
    Record,
    ThreadKey,
    canonical_json,
    check_approval_id,
    check_session_id,
    check_slack_id,
    create_only,
    make_dirs,
    new_approval_id,
    read_file,
    record_problem,
    utc_iso,
)

from .errors import CapsuleError, HashMismatchError
from .policy import PolicyRule
from .read_once import pass_reads

__all__ = [
    "Capsule",
    "args_sha256",
    "build_capsule",
    "capsule_ids",
    "load_capsule",
    "write_capsule",
]

_CAPSULE_FILE = re.compile(r"(appr_[0-9a-f]{16})\.json")
# What a card can show of a description or a message; the capsule keeps no more.
_SHOWN_LIMIT = 4000


def args_sha256(tool: str, arguments: dict[str, Any]) -> str:
    """The hash of a call: the tool name and its canonical arguments."""
    return hashlib.sha256(
        canonical_json({"tool": tool, "arguments": arguments}).encode()
    ).hexdigest()


class Capsule(Record):
    schema_version: Literal[1] = 1
    id: str
    session_id: str
    thread: ThreadKey
    # Every approval id asked in the same model turn: the child runs when all are decided.
    batch: tuple[str, ...]
    call_id: str
    tool: str
    tool_version: str
    arguments: dict[str, Any]
    args_sha256: str
    requester: str
    # Everyone whose messages the model answered in this turn: none of them may approve
    # it (unless self-approval is allowed). ``requester`` is the first, for display.
    requesters: tuple[str, ...] = ()
    reason: str
    policy: PolicyRule
    created_at: str
    expires_at: str
    # The tool's hints as advertised when asked (MCP readOnlyHint, …): shown, never obeyed.
    tool_annotations: dict[str, Any] = {}
    # What the approver is shown besides the call, kept as it was when asked: the tool's
    # own description (a tool or its server may describe itself differently tomorrow) and
    # the message the model was answering.
    tool_description: str = ""
    request_text: str = ""
    # Where the card goes when not into the thread itself: a channel id (a request asked
    # in a direct message is decided in SIGNOFF_APPROVALS_CHANNEL). "" = the thread.
    card_channel: str = ""

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return check_approval_id(value)

    @field_validator("session_id")
    @classmethod
    def _session(cls, value: str) -> str:
        return check_session_id(value)

    @field_validator("card_channel")
    @classmethod
    def _card_channel(cls, value: str) -> str:
        return value and check_slack_id(value)

    @property
    def short_hash(self) -> str:
        return self.args_sha256[:12]

    @property
    def askers(self) -> tuple[str, ...]:
        return self.requesters or (self.requester,)

    def verify_hash(self) -> None:
        actual = args_sha256(self.tool, self.arguments)
        if actual != self.args_sha256:
            raise HashMismatchError(
                f"{self.id}: arguments hash to {actual[:12]}, capsule says {self.short_hash}"
            )


def build_capsule(
    *,
    session_id: str,
    thread: ThreadKey,
    call_id: str,
    tool: str,
    tool_version: str,
    arguments: dict[str, Any],
    requester: str,
    reason: str,
    policy: PolicyRule,
    now: datetime,
    requesters: tuple[str, ...] = (),
    batch: tuple[str, ...] = (),
    approval_id: str | None = None,
    tool_annotations: dict[str, Any] | None = None,
    tool_description: str = "",
    request_text: str = "",
    card_channel: str = "",
) -> Capsule:
    approval_id = approval_id or new_approval_id()
    return Capsule(
        id=approval_id,
        session_id=session_id,
        thread=thread,
        batch=batch or (approval_id,),
        call_id=call_id,
        tool=tool,
        tool_version=tool_version,
        arguments=arguments,
        args_sha256=args_sha256(tool, arguments),
        requester=requester,
        requesters=requesters or (requester,),
        reason=reason,
        policy=policy,
        created_at=utc_iso(now),
        expires_at=utc_iso(now + timedelta(seconds=policy.expires_after_seconds)),
        tool_annotations=dict(tool_annotations or {}),
        tool_description=tool_description[:_SHOWN_LIMIT],
        request_text=request_text[:_SHOWN_LIMIT],
        card_channel=card_channel,
    )


def write_capsule(session_dir: Path, capsule: Capsule) -> Path:
    path = session_dir / "approvals" / f"{capsule.id}.json"
    # Made by the session's first request, and synced into the session's directory: the
    # capsule is only as durable as the names leading to it.
    make_dirs(path.parent)
    create_only(path, capsule.model_dump_json(indent=2).encode())
    return path


def capsule_ids(session_dir: Path) -> list[str]:
    """The approval ids of the capsules a session holds (not their decisions or votes)."""
    try:
        names = os.listdir(session_dir / "approvals")
    except FileNotFoundError:
        return []
    return capsules_among(names)


def capsules_among(names: Iterable[str]) -> list[str]:
    """The approval ids of the capsules among the names in a session's ``approvals/``."""
    return sorted(m.group(1) for n in names if (m := _CAPSULE_FILE.fullmatch(n)))


def load_capsule(session_dir: Path, approval_id: str) -> Capsule:
    path = os.path.join(session_dir, "approvals", f"{check_approval_id(approval_id)}.json")
    reads = pass_reads()
    if reads is not None and (kept := reads.capsules.get(path)) is not None:
        return kept  # create-only: as this pass read it
    try:
        raw = read_file(path)
    except FileNotFoundError as exc:
        raise NotFoundError(f"no approval {approval_id}") from exc
    try:
        capsule = Capsule.model_validate_json(raw)
    except ValidationError as exc:
        raise CorruptRecordError(f"{path}: {record_problem(exc)}") from exc
    if capsule.id != approval_id or capsule.session_id != session_dir.name:
        raise CapsuleError(f"{path}: capsule names {capsule.id} in {capsule.session_id}")
    if reads is not None:
        reads.capsules[path] = capsule
    return capsule
