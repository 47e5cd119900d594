"""A log a child process writes itself (a stdio MCP server's stderr), kept under a size.

The child holds the file open for append, so signoff cannot rotate it by renaming (the
child would go on writing to the renamed file). It copies it to ``<name>.1`` instead and
truncates it, as logrotate's ``copytruncate`` does: the child's next write lands at the
new end. Lines written between the copy and the truncation are lost; a runaway server no
longer fills the disk. A copy that fails (a full disk, which is when the cap matters
most) does not keep the log over its limit: it is truncated all the same, its lines lost.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

__all__ = ["STDERR_LOG_LIMIT", "cap_log"]

log = logging.getLogger("signoff.mcp")

STDERR_LOG_LIMIT = 16 << 20


def cap_log(path: Path, limit: int) -> bool:
    """When ``path`` is over ``limit`` bytes: its contents replace ``<name>.1`` and it
    starts empty. True when it was emptied. Never raises: the watcher that calls it also
    starts a server that died again, and must go on."""
    older = path.with_name(f"{path.name}.1")
    try:
        if path.stat().st_size <= limit:
            return False
        try:
            shutil.copyfile(path, older)
        except OSError as exc:
            log.warning(
                "%s is over %.3g MiB and could not be copied to %s (%s): it is emptied, "
                "and what it held is lost",
                path,
                limit / (1 << 20),
                older.name,
                exc.strerror or exc,
            )
        os.truncate(path, 0)
    except FileNotFoundError:
        return False
    except OSError as exc:
        log.warning("%s could not be kept under its limit: %s", path, exc.strerror or exc)
        return False
    return True
