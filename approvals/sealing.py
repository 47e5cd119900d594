"""The records of a finished approval, sealed when its outcome is told.

The asking session's ``MANIFEST.sha256`` covers the capsule. Everything that happens to
the request afterwards — card, votes, edits, decision, claim, result, told — is written
beside it after that seal, which can only check that such files are of a kind allowed to
come late. So once the outcome is told (an approval's last record) a create-only
``<id>.sealed.json`` lists the sha256 of each of them, and ``signoff audit`` checks it: a
record changed, removed or added afterwards no longer matches.

Only a card may follow the seal: Slack may post it after the request was decided and
told (the bot was down while someone approved from a terminal). Like the manifest, the
seal is a digest, not a signature: it catches a record edited without rewriting it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Literal

from sessions import AlreadyExistsError, Record, read_file

from .records import read_optional, write_record

__all__ = ["Sealed", "read_seal", "seal_problems", "seal_records"]

# What may be recorded after the seal (see the docstring).
_MAY_FOLLOW = ("card",)


class Sealed(Record):
    schema_version: Literal[1] = 1
    approval_id: str
    at: str
    # Each record's path under approvals/ ("<id>.decision.json", "<id>.votes/U0BOB.json")
    # and its sha256.
    records: dict[str, str]


def _seal_name(approval_id: str) -> str:
    return f"{approval_id}.sealed.json"


def _record_names(approvals: Path, approval_id: str, *, links: bool = False) -> list[str]:
    """The approval's records beside its capsule, regular files only (a directory by a
    vote's name is a problem the reads report), in a stable order; ``links``: the links
    by a record's name instead."""
    prefix, own = f"{approval_id}.", {f"{approval_id}.json", _seal_name(approval_id)}
    found: list[str] = []
    try:
        entries = sorted(os.scandir(approvals), key=lambda e: e.name)
    except FileNotFoundError:
        return []
    for entry in entries:
        if not entry.name.startswith(prefix) or entry.name in own:
            continue
        if entry.is_symlink():
            found += [entry.name] if links else []
        elif entry.is_file(follow_symlinks=False):
            found += [] if links else [entry.name]
        elif entry.is_dir(follow_symlinks=False):  # votes, per edit
            with os.scandir(entry.path) as votes:
                found += sorted(
                    f"{entry.name}/{v.name}"
                    for v in votes
                    if not v.name.startswith(".")
                    and (v.is_symlink() if links else v.is_file(follow_symlinks=False))
                )
    return found


def _sha256(path: Path) -> str:
    return hashlib.sha256(read_file(path)).hexdigest()


def seal_records(approvals: Path, approval_id: str, *, at: str) -> None:
    """Seal the approval's records as they are now; a no-op once sealed (told again after
    a crash between the told record and this seal)."""
    names = _record_names(approvals, approval_id)
    sealed = Sealed(
        approval_id=approval_id,
        at=at,
        records={name: _sha256(approvals / name) for name in names},
    )
    try:
        write_record(approvals / _seal_name(approval_id), sealed)
    except AlreadyExistsError:
        pass


def read_seal(approvals: Path, approval_id: str) -> Sealed | None:
    """The seal, None when there is none; CorruptRecordError when it does not parse."""
    return read_optional(approvals / _seal_name(approval_id), Sealed)


def seal_problems(approvals: Path, approval_id: str, sealed: Sealed) -> list[str]:
    """What no longer matches the seal. Only files found beside the capsule are read, never
    a path a tampered seal names."""
    now = _record_names(approvals, approval_id)
    problems = []
    if sealed.approval_id != approval_id:
        problems.append(f"{_seal_name(approval_id)} seals another approval")
    if f"{approval_id}.told.json" not in sealed.records:
        problems.append(f"{_seal_name(approval_id)} does not list the told record")
    for name, digest in sealed.records.items():
        if name not in now:
            problems.append(f"sealed, now missing: {name}")
        elif _sha256(approvals / name) != digest:
            problems.append(f"changed after it was sealed: {name}")
    for name in now:
        kind = name.removeprefix(f"{approval_id}.").removesuffix(".json")
        if name not in sealed.records and kind not in _MAY_FOLLOW:
            problems.append(f"added after it was sealed: {name}")
    # signoff writes no link, and the seal lists none, but every read of a record follows
    # one: a vote or an escalation added as a link would be exported, and sealed by nothing.
    for name in _record_names(approvals, approval_id, links=True):
        problems.append(f"a link where a record belongs: {name}")
    return problems
