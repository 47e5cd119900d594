"""How long a process waits for what another one holds only for milliseconds.

The index's writer (a commit), a session's seal in progress and a request's votes being
recorded are held for milliseconds, unless their holder is stopped (Ctrl-Z) or is another
program (a ``sqlite3`` shell left in a write transaction), which hold them for ever: the
index's readers and writers (``busy_timeout``), a verify of a session being sealed and a
click on a request whose votes are being recorded wait ``BUSY_WAIT`` seconds, then give up
and say so. ``SIGNOFF_BUSY_WAIT_S`` shortens it, for tests and benchmarks only: the
tests of what happens then would otherwise each wait the 5 s out. Any other value stops
start-up (``bot/env_values.steering``) rather than being waited out at 5 s unsaid.
"""

from __future__ import annotations

import math
import os

__all__ = ["BUSY_WAIT", "busy_wait", "busy_wait_from"]

BUSY_WAIT = 5.0


def busy_wait_from(text: str | None) -> float:
    """The wait ``text`` (the value of ``SIGNOFF_BUSY_WAIT_S``; None or blank: unset) asks
    for; a ValueError saying what it may be when it is not a number of seconds above 0 and
    at most ``BUSY_WAIT``. Start-up checks it (``bot/env_values``), so a typo is said
    rather than waited out at the default."""
    if text is None or not text.strip():
        return BUSY_WAIT
    try:
        asked = float(text)
    except ValueError:
        asked = math.nan
    if not 0 < asked <= BUSY_WAIT:  # nan and inf fail here too
        raise ValueError(
            f"must be a number of seconds above 0 and at most {BUSY_WAIT:g} "
            f"(it may only shorten the wait), not {text!r}"
        )
    return asked


def busy_wait() -> float:
    """``BUSY_WAIT``, or the shorter wait ``SIGNOFF_BUSY_WAIT_S`` asks for."""
    return busy_wait_from(os.environ.get("SIGNOFF_BUSY_WAIT_S"))
