"""A log a child process writes itself (a stdio MCP server's stderr), kept under a size.

The child holds the file open for append, so signoff cannot rotate it by renaming (the
child would go on writing to the renamed file). It copies it to ``<name>.1`` instead and
truncates it, as logrotate's ``copytruncate`` does: the child's next write lands at the
new end. Lines written between the copy and the truncation are lost; a runaway server no
longer fills the disk.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

__all__ = ["STDERR_LOG_LIMIT", "cap_log"]

STDERR_LOG_LIMIT = 16 << 20


def cap_log(path: Path, limit: int) -> bool:
    """When ``path`` is over ``limit`` bytes: its contents replace ``<name>.1`` and it
    starts empty. True when it was rotated."""
    try:
        if path.stat().st_size <= limit:
            return False
        shutil.copyfile(path, path.with_name(f"{path.name}.1"))
        os.truncate(path, 0)
    except FileNotFoundError:
        return False
    return True
