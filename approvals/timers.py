"""When a waiting request next needs signoff: markers whose names sort by time.

    timers/<YYYYMMDDTHH>/<shard>/<YYYYMMDDTHHMMSSmmmZ>.<approval_id>
        empty: look at this request from then on (shard: the id's, as its pointer's)

Reminders and escalation are scheduled data, not in-process timers: a marker is written
when a request is created (and again whenever it is reopened), and the sweep lists the
markers of the hours that have begun — names only, no file is read — and takes the ones
that are due. For each it does what the request's records say is due, arms the next
marker, and only then removes the one it took, so a crash in between leaves a marker to
take again, and the records (create-only) make taking it twice harmless. A marker is also
armed "now" before a vote that completes a quorum and before every edit, and again once
it is written, so a crash before the decision (or the edit's card update) is written
cannot strand a request whose approvals are all in, nor leave its card showing arguments
that no longer count; a sweep that drops a marker looks at its request once more, for a
vote or an edit written meanwhile whose second marker the drop removed.

Markers are filed by hour, then by the request's shard: a burst of requests with one
reminder time would otherwise fill one directory (100k pending, 100k entries), and the
sweep would list every future marker each time. An hour or shard left empty is removed,
so hours do not pile up (the sweep also removes what a crash left in past hours: a
directory made for a marker never written, a temp file); ``arm`` makes them again if a
removal raced it. Markers written
before this layout (straight under ``timers/``) are still due and disarmed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from sessions import (
    AlreadyExistsError,
    Home,
    check_approval_id,
    create_only,
    make_dirs,
    shard_of,
)

__all__ = ["Timers"]

_NAME = re.compile(r"([0-9]{8}T[0-9]{9}Z)\.(appr_[0-9a-f]{16})")
_HOUR = re.compile(r"[0-9]{8}T[0-9]{2}")
_SHARD = re.compile(r"[0-9a-f]{2}")
_HOUR_LEN = len("20261102T09")
_ARM_ATTEMPTS = 256


def _stamp(iso: str) -> str:
    """``2026-11-02T09:00:00.000Z`` → ``20261102T090000000Z`` (sorts like the time)."""
    return re.sub(r"[-:.]", "", iso)


def _remove_empty(directory: Path) -> bool:
    try:
        directory.rmdir()
    except OSError:
        return False  # not empty (or gone): it stays
    return True


def _listdir(path: Path) -> list[str]:
    try:
        return os.listdir(path)
    except (FileNotFoundError, NotADirectoryError):
        return []


class Timers:
    def __init__(self, home: Home) -> None:
        self.root: Path = home.root / "timers"

    def _shard(self, name: str, approval_id: str) -> Path:
        return self.root / name[:_HOUR_LEN] / shard_of(approval_id)

    def arm(self, approval_id: str, due: str) -> str:
        """A marker for ``approval_id`` at ``due`` (an ``utc_iso`` time); idempotent."""
        name = f"{_stamp(due)}.{check_approval_id(approval_id)}"
        if not _NAME.fullmatch(name):
            raise ValueError(f"not a time for a timer: {due!r}")
        shard = self._shard(name, approval_id)
        if (shard / name).exists():
            return name  # armed already: no temp file written and synced to learn it
        # Each failed attempt is another party's completed removal of this shard, so a
        # run of them ends when that party does; the bound stops only a path that can
        # never be a directory (a file in its place). Eight ran out under a churning
        # disarm in the same shard on a loaded machine.
        for _ in range(_ARM_ATTEMPTS):
            try:
                make_dirs(shard)
                create_only(shard / name, b"")
            except AlreadyExistsError:
                pass
            except (FileNotFoundError, FileExistsError):
                continue  # a disarm removed the emptied shard meanwhile: make it again
            return name
        raise OSError(f"could not arm a timer in {shard}")

    def _markers(self, hours: list[str]) -> list[str]:
        """Every marker name (any time) in ``hours``, and those from before the shards."""
        found = [n for n in hours if _NAME.fullmatch(n)]
        for hour in hours:
            if _HOUR.fullmatch(hour):
                for shard in _listdir(self.root / hour):
                    if _SHARD.fullmatch(shard):
                        found += _listdir(self.root / hour / shard)
        return found

    def due(self, now: str) -> list[tuple[str, str]]:
        """(marker name, approval id) of every marker due at ``now``, oldest first."""
        limit = _stamp(now)
        begun = [n for n in _listdir(self.root) if n <= limit[:_HOUR_LEN] or _NAME.fullmatch(n)]
        found = []
        for name in sorted(set(self._markers(begun))):  # one armed again beside a flat one
            match = _NAME.fullmatch(name)
            if match is None:
                continue  # a temp file of a write in progress
            if match.group(1) > limit:
                break
            found.append((name, match.group(2)))
        return found

    def armed(self, approval_id: str) -> list[str]:
        """The markers of one request (for tests and operators)."""
        shard, names = shard_of(check_approval_id(approval_id)), _listdir(self.root)
        found = [n for n in names if _NAME.fullmatch(n)]
        for hour in names:
            if _HOUR.fullmatch(hour):
                found += _listdir(self.root / hour / shard)
        return sorted({n for n in found if n.endswith(f".{approval_id}") and _NAME.fullmatch(n)})

    def tidy(self, now: str) -> None:
        """Remove what a crash left in the hours before ``now``'s: a shard or hour made
        for a marker never written, a marker's temp file (and one from before the shards,
        straight under ``timers/``). An ``arm`` racing this (one
        overdue) loses its temp file or directory and makes it again."""
        current = _stamp(now)[:_HOUR_LEN]
        for hour in _listdir(self.root):
            if hour.startswith(".tmp-"):
                # A marker's temp file from before the shards: no arm writes here now.
                (self.root / hour).unlink(missing_ok=True)
            if not (_HOUR.fullmatch(hour) and hour < current):
                continue
            for shard in _listdir(self.root / hour):
                names = _listdir(self.root / hour / shard)
                if not _SHARD.fullmatch(shard) or any(_NAME.fullmatch(n) for n in names):
                    continue
                for name in names:
                    if name.startswith(".tmp-"):
                        (self.root / hour / shard / name).unlink(missing_ok=True)
                _remove_empty(self.root / hour / shard)
            _remove_empty(self.root / hour)

    def disarm(self, name: str) -> None:
        match = _NAME.fullmatch(name)
        if match is None:
            return
        (self.root / name).unlink(missing_ok=True)  # from before the shards
        shard = self._shard(name, match.group(2))
        (shard / name).unlink(missing_ok=True)
        if _remove_empty(shard):
            _remove_empty(shard.parent)
