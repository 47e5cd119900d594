"""Index rows for the approvals of one session, read from its files (for reindex)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from sessions import ApprovalRow, Home, SessionRecord, SignoffError

from .capsule import capsules_among, load_capsule
from .request import ApprovalRequest

__all__ = ["scan_session_approvals"]


def scan_session_approvals(
    home: Home, session_dir: Path, record: SessionRecord
) -> Iterator[ApprovalRow]:
    """Its directory listed once: absent records are not opened (most are, on a home of
    pending approvals, and a failed open costs as much as a read).

    A request whose capsule or records cannot be read is its own problem (``verify`` and
    ``signoff audit`` say so): every other request of the session is yielded first, then
    the first such error is raised, for the caller to count or log. Raised at once, it
    left the session's later requests out of a rebuilt index: never listed, reminded or
    expired."""
    try:
        listing = frozenset(os.listdir(os.path.join(session_dir, "approvals")))
    except FileNotFoundError:
        return
    failed: SignoffError | ValueError | OSError | None = None
    for approval_id in capsules_among(listing):
        try:
            capsule = load_capsule(session_dir, approval_id)
            row = ApprovalRequest(home, capsule, session_dir=session_dir, listing=listing).row()
        except (SignoffError, ValueError, OSError) as exc:
            failed = failed or exc
            continue
        yield row
    if failed is not None:
        raise failed
