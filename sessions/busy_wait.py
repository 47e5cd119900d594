"""How long a process waits for what another one holds only for milliseconds.

The index's writer (a commit), a session's seal in progress and a request's votes being
recorded are held for milliseconds, unless their holder is stopped (Ctrl-Z) or is another
program (a ``sqlite3`` shell left in a write transaction), which hold them for ever: the
index's readers and writers (``busy_timeout``), a verify of a session being sealed and a
click on a request whose votes are being recorded wait ``BUSY_WAIT`` seconds, then give up
and say so. ``SIGNOFF_BUSY_WAIT_S`` shortens it, for tests and benchmarks only: the
tests of what happens then would otherwise each wait the 5 s out.
"""

from __future__ import annotations

import os

__all__ = ["BUSY_WAIT", "busy_wait"]

BUSY_WAIT = 5.0


def busy_wait() -> float:
    """``BUSY_WAIT``, or the shorter wait ``SIGNOFF_BUSY_WAIT_S`` asks for; a value that is
    not a number of seconds above 0 and below ``BUSY_WAIT`` leaves it as it is."""
    try:
        asked = float(os.environ.get("SIGNOFF_BUSY_WAIT_S", BUSY_WAIT))
    except ValueError:
        return BUSY_WAIT
    return asked if 0 < asked < BUSY_WAIT else BUSY_WAIT
