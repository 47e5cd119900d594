"""Whether the file system a path is on has room left for signoff to write.

SQLite says a full disk as "disk I/O error" (its ``-shm`` file could not be sized) or
"database or disk is full", neither naming the disk; a command that only said the index
could not be used sent the operator to `signoff reindex`, which fails the same way. The
file system is asked instead: no free block (for this user: root may use the blocks
reserved for it) or no free inode is a full disk, whatever SQLite made of it.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["MIN_ROOM", "on_read_only", "out_of_room"]

# Less than this is full for signoff: an index opened in WAL mode sizes a 32 KiB -shm file.
MIN_ROOM = 64 * 1024


def out_of_room(path: Path) -> bool:
    """True when the file system of ``path`` has less than ``MIN_ROOM`` bytes or no inode
    left for this process; False when it has, or cannot be asked."""
    try:
        st = os.statvfs(path)
    except OSError:
        return False
    blocks = st.f_bfree if os.geteuid() == 0 else st.f_bavail
    inodes = st.f_ffree if os.geteuid() == 0 else st.f_favail
    # A file system without inode counts (f_files 0: some network ones) never runs out.
    return blocks * st.f_frsize < MIN_ROOM or (st.f_files > 0 and inodes == 0)


def on_read_only(path: Path) -> bool:
    """True when ``path`` is on a file system mounted read-only; False when not, or when it
    cannot be asked."""
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False
