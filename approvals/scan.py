"""Index rows for the approvals of one session, read from its files (for reindex)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from sessions import (
    AlreadyExistsError,
    ApprovalRow,
    Home,
    SessionRecord,
    SignoffError,
    create_only,
    make_dirs,
)

from .capsule import Capsule, capsules_among, load_capsule
from .records import Pointer
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
            _restore_pointer(home, capsule)
            row = ApprovalRequest(home, capsule, session_dir=session_dir, listing=listing).row()
        except (SignoffError, ValueError, OSError) as exc:
            failed = failed or exc
            continue
        yield row
    if failed is not None:
        raise failed


def _restore_pointer(home: Home, capsule: Capsule) -> None:
    """Write the pointer a button's id finds this capsule by, when it is missing (a
    session restored from a backup without it): the index listed the request as waiting,
    yet deciding it said there was no such approval. A stat per request; one that exists
    is left as it is (``ApprovalRequest.open`` says when it does not parse)."""
    path = home.pointer_path(capsule.id)
    if path.exists():
        return
    make_dirs(path.parent)
    try:
        create_only(path, Pointer(session=capsule.session_id).model_dump_json().encode())
    except AlreadyExistsError:
        pass  # written meanwhile (the request being created, another rebuild's worker)
