"""Index rows for the approvals of one session, read from its files (for reindex)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sessions import ApprovalRow, Home, SessionRecord

from .capsule import capsule_ids, load_capsule
from .request import ApprovalRequest

__all__ = ["scan_session_approvals"]


def scan_session_approvals(
    home: Home, session_dir: Path, record: SessionRecord
) -> Iterator[ApprovalRow]:
    for approval_id in capsule_ids(session_dir):
        yield ApprovalRequest(home, load_capsule(session_dir, approval_id)).row()
