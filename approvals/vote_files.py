"""A quorum's vote files, each counted only when its name is what it holds.

Each approval is its own create-only file, ``<id>.votes[-<edit>]/<key>.json``, where
``key`` names who cast it (``Vote.key``): its name is what makes a second click by the
same person a no-op. A file whose content names another person or another request was
not written by signoff (a hand-edited or wrongly restored home); counted, it would be an
approval nobody gave. So it counts for nobody, nor gives a decision its time or a reason
shown (a copy of a voter's own vote has their key); ``signoff verify`` and the audit name
it; it is still read as the vote it says it is where the export shows what is on disk.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from sessions import CorruptRecordError

from .records import Vote, read_optional

__all__ = ["misnamed", "vote_file_problems"]

_VOTES_DIR = re.compile(r"(appr_[0-9a-f]{16})\.votes(?:-[0-9]{1,4})?")


def misnamed(path: Path, vote: Vote, approval_id: str) -> str | None:
    """Why the vote read from ``path`` is not the one its name and directory say, or None."""
    where = f"{path.parent.name}/{path.name}"
    if vote.approval_id != approval_id:
        return f"{where} holds a vote for {vote.approval_id}"
    if f"{vote.key}.json" != path.name:
        return f"{where} holds a vote by {vote.key}"
    return None


def vote_file_problems(session_dir: Path, approval_id: str | None = None) -> list[str]:
    """What is wrong with the vote files of a session's requests (only ``approval_id``'s
    when given): one held under another's name, or one that does not parse; in a stable
    order. Only regular files are read; OSError when a directory cannot be listed (the
    caller says the session is unreadable)."""
    approvals = session_dir / "approvals"
    try:
        names = sorted(os.listdir(approvals))
    except FileNotFoundError:
        return []
    problems: list[str] = []
    for name in names:
        match = _VOTES_DIR.fullmatch(name)
        if match is None or approval_id not in (None, match.group(1)):
            continue
        if not (approvals / name).is_dir():
            continue
        with os.scandir(approvals / name) as listing:
            files = sorted(
                e.name
                for e in listing
                if e.name.endswith(".json")
                and not e.name.startswith(".")
                and e.is_file(follow_symlinks=False)
            )
        for file in files:
            path = approvals / name / file
            try:
                vote = read_optional(path, Vote)
            except CorruptRecordError as exc:
                problems.append(str(exc))
                continue
            why = misnamed(path, vote, match.group(1)) if vote is not None else None
            if why is not None:
                problems.append(why)
    return problems
