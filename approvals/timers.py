"""When a waiting request next needs signoff: markers whose names sort by time.

    timers/<YYYYMMDDTHHMMSSmmmZ>.<approval_id>     empty: look at this request from then on

Reminders and escalation are scheduled data, not in-process timers: a marker is written
when a request is created (and again whenever it is reopened), and the sweep lists the
directory — names only, no file is read — and takes the markers that are due. For each it
does what the request's records say is due, arms the next marker, and only then removes
the one it took, so a crash in between leaves a marker to take again, and the records
(create-only) make taking it twice harmless. A marker is also armed "now" before a vote or
an edit that completes a quorum, so a crash before the decision is written cannot strand
a request whose approvals are all in.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from sessions import AlreadyExistsError, Home, check_approval_id, create_only

__all__ = ["Timers"]

_NAME = re.compile(r"([0-9]{8}T[0-9]{9}Z)\.(appr_[0-9a-f]{16})")


def _stamp(iso: str) -> str:
    """``2026-11-02T09:00:00.000Z`` → ``20261102T090000000Z`` (sorts like the time)."""
    return re.sub(r"[-:.]", "", iso)


class Timers:
    def __init__(self, home: Home) -> None:
        self.root: Path = home.root / "timers"

    def arm(self, approval_id: str, due: str) -> str:
        """A marker for ``approval_id`` at ``due`` (an ``utc_iso`` time); idempotent."""
        name = f"{_stamp(due)}.{check_approval_id(approval_id)}"
        if not _NAME.fullmatch(name):
            raise ValueError(f"not a time for a timer: {due!r}")
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            create_only(self.root / name, b"")
        except AlreadyExistsError:
            pass
        return name

    def due(self, now: str) -> list[tuple[str, str]]:
        """(marker name, approval id) of every marker due at ``now``, oldest first."""
        try:
            names = os.listdir(self.root)
        except FileNotFoundError:
            return []
        limit = _stamp(now)
        found = []
        for name in sorted(names):
            match = _NAME.fullmatch(name)
            if match is None:
                continue  # a temp file of a write in progress
            if match.group(1) > limit:
                break
            found.append((name, match.group(2)))
        return found

    def armed(self, approval_id: str) -> list[str]:
        """The markers of one request (for tests and operators)."""
        try:
            names = os.listdir(self.root)
        except FileNotFoundError:
            return []
        return sorted(n for n in names if n.endswith(f".{approval_id}") and _NAME.fullmatch(n))

    def disarm(self, name: str) -> None:
        if _NAME.fullmatch(name):
            (self.root / name).unlink(missing_ok=True)
