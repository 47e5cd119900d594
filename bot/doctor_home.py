"""``signoff doctor``'s check of the home: whether ``signoff run`` could record anything.

A home on a read-only file system (a snapshot, a volume remounted read-only after
errors), one this user cannot write, or one whose disk is full runs a bot that acks no
message and records no click, while each of the doctor's other checks said ``ok``. The
home is only looked at: nothing is written, and one that does not exist is not made.
"""

from __future__ import annotations

import os
from pathlib import Path

from sessions import MIN_ROOM, Home, can_write, on_read_only, out_of_room

from .doctor_slack import Check

__all__ = ["check_home"]


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    size = float(n)
    for unit in ("KiB", "MiB", "GiB"):
        size /= 1024
        if size < 1024 or unit == "GiB":
            break
    return f"{size:.1f} {unit}"


def _free(path: Path) -> int:
    st = os.statvfs(path)
    return (st.f_bfree if os.geteuid() == 0 else st.f_bavail) * st.f_frsize


def check_home(home: Home) -> Check:
    root = home.root
    where = f"SIGNOFF_HOME {root}"
    if not root.exists():
        parent = next((p for p in root.parents if p.exists()), None)
        if parent is None or not os.access(parent, os.W_OK | os.X_OK):
            return Check(False, f"{where} does not exist, and {parent} cannot be written")
        return Check(True, f"{where} does not exist yet: `signoff run` makes it")
    if not root.is_dir():
        return Check(False, f"{where} is not a directory")
    try:
        free = _free(root)
    except OSError as exc:
        return Check(False, f"{where} cannot be looked at: {exc.strerror or exc}")
    if on_read_only(root):
        return Check(False, f"{where} is on a read-only file system: nothing can be recorded")
    if not can_write(home):
        return Check(False, f"{where} cannot be written by this user")
    if out_of_room(root):
        return Check(
            False,
            f"the file system of {where} is full ({_size(free)} free, signoff needs at least "
            f"{_size(MIN_ROOM)}): a bot acks no message and records no click until there is room",
        )
    return Check(True, f"{where}: writable, {_size(free)} free")
