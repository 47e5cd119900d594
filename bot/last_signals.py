"""What SIGTERM and SIGINT (and SIGHUP, unless the process was started with it ignored, as
``nohup`` does) do once ``run`` or ``dev`` has stopped: end the process at once with the
status it has, not as killed by the signal.

Closing the event loop puts back the signals' default actions while the interpreter still
winds down (a moment, or for as long as a thread it waits for does not end), and a second
Ctrl-C or ``kill`` then ended a bot that had stopped cleanly with 130 or 143, which a
supervisor counts as a crash. Ignored from the start, they would leave a process stuck
there (a thread that does not end) with no way out but SIGKILL: so they end it with its
status until the threads are joined and every other exit handler has run, and are ignored
from then on (the interpreter's end resets a handler of its own to the default action,
never an ignored signal).
The standard library only: ``cli`` uses it before anything else is loaded.
"""

from __future__ import annotations

import atexit
import os
import signal
from types import FrameType

__all__ = ["asked_to_stop", "exit_on_signal", "hangup_stops", "stop_was_asked"]

# Read as this module loads, before anything sets a handler of its own: ``nohup`` starts
# the process with SIGHUP ignored so that it outlives its terminal, which is kept so.
_HANGUP_IGNORED = signal.getsignal(signal.SIGHUP) == signal.SIG_IGN


def hangup_stops() -> bool:
    """Whether SIGHUP stops ``run`` and ``dev`` as SIGTERM does (not when it was ignored)."""
    return not _HANGUP_IGNORED


# A stop that came while the process still loaded (``cli``'s handler), for the event loop's
# handler to act on once it exists: the exception that handler raises where the process is
# may be lost there (a callback's, which Python only reports), and the bot started anyway.
_stop_asked = False


def asked_to_stop() -> None:
    """A stopping signal came before the event loop's handler existed."""
    global _stop_asked
    _stop_asked = True


def stop_was_asked() -> bool:
    """Whether one did (``asked_to_stop``): the loop's handler then stops at once."""
    return _stop_asked


def _stopping_signals() -> tuple[signal.Signals, ...]:
    hangup = (signal.SIGHUP,) if hangup_stops() else ()
    return (signal.SIGTERM, signal.SIGINT, *hangup)


def exit_on_signal(status: int) -> None:
    """From now on SIGTERM, SIGINT and SIGHUP end the process with ``status`` (nothing of
    it is left to write: its output was flushed, its logs are written line by line)."""

    def exit_now(signum: int, frame: FrameType | None) -> None:
        os._exit(status)

    for sig in _stopping_signals():
        signal.signal(sig, exit_now)


def _ignored() -> None:
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)


# Registered as this module loads, before the commands are (``cli`` loads it first): exit
# handlers run the last registered first, so this one runs after every other, a tool
# module's or the MCP SDK's included, which a signal still ends with the status.
atexit.register(_ignored)
