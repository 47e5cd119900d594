"""Index rows for the approvals of one session, read from its files (for reindex)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from sessions import ApprovalRow, Home, SessionRecord

from .capsule import capsules_among, load_capsule
from .request import ApprovalRequest

__all__ = ["scan_session_approvals"]


def scan_session_approvals(
    home: Home, session_dir: Path, record: SessionRecord
) -> Iterator[ApprovalRow]:
    """Its directory listed once: absent records are not opened (most are, on a home of
    pending approvals, and a failed open costs as much as a read)."""
    try:
        listing = frozenset(os.listdir(os.path.join(session_dir, "approvals")))
    except FileNotFoundError:
        return
    for approval_id in capsules_among(listing):
        capsule = load_capsule(session_dir, approval_id)
        yield ApprovalRequest(home, capsule, session_dir=session_dir, listing=listing).row()
