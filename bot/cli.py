"""The ``signoff`` command line.

signoff demo [--home DIR]        the embedded default: a scripted end-to-end run
signoff dev                      the bot and a local Slack in the browser
signoff run                      the Slack bot on Socket Mode
signoff sessions [--state S]     recent sessions
signoff trace <session-id>       the thread's lineage, readable in a terminal
signoff show <session-id>        the session's whole transcript (its parents' too)
signoff pending                  approvals waiting for a decision
signoff approve|deny <appr-id> --as <user-id> [--reason TEXT] [--hash H (approve)]
signoff say --as U --channel C [--thread TS] TEXT    chat from the terminal
signoff recover                  start-up recovery once, then drain
signoff verify [session-id]      check sealed sessions against their manifests
signoff audit [--since 7d] [--format jsonl|csv]   every approval, for an audit
signoff quarantine [quar-id]     what arrived from Slack but could never be processed
signoff reindex                  rebuild index.sqlite3 from the directories
signoff doctor                   check the model (one cheap call), Slack, tools and policy

Exit status: 0 done; 1 a check found a problem or a decision was refused; 2 a usage or
configuration error, an id that names nothing, or a file that could not be read or
written, such as a damaged record an id names or a read-only command's output on a full
disk (one line on stderr, never a traceback); 3 recorded (a message, a decision) but the turn after
it failed in this process (one line on stderr: why, and that a bot or ``signoff recover``
carries it on), or a recording command's work done (``approve``, ``deny``, ``say``,
``recover``, ``reindex``) but its output could not be written (``> /dev/full``; one line
on stderr);
130 on Ctrl-C; 141 when the reader of the output went away
(``signoff sessions | head``).
"""

from __future__ import annotations

import io
import os
import signal
import sys
from collections.abc import Sequence

from .last_signals import asked_to_stop, exit_on_signal, hangup_stops

__all__ = ["main"]

# The commands that serve until SIGTERM, and exit 0 on it.
_SERVING = frozenset({"run", "dev"})


class _StoppedWhileLoading(BaseException):
    """SIGTERM (or SIGHUP) came before ``run``'s own handler existed: nothing had started yet."""


def _stop_while_loading(signum: int, frame: object) -> None:
    asked_to_stop()  # kept: where the exception lands, it may be reported and lost
    raise _StoppedWhileLoading


def _standard_streams() -> None:
    """Standard streams the process was started without (``signoff pending >&-``) go to
    /dev/null. Python leaves such a stream None, which ended every command on a
    traceback; and the first file a command opened took the free descriptor, so what a
    child process inheriting it (an MCP server's stderr) writes would go into that file."""
    for fd, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        if getattr(sys, name) is not None:
            continue
        try:
            os.fstat(fd)
        except OSError:  # closed: the lowest free descriptor, which the one below takes
            if (got := os.open(os.devnull, os.O_RDWR)) != fd:  # (0, 1, 2 in order: never)
                os.close(got)
                continue
        setattr(sys, name, open(fd, mode, closefd=False))  # noqa: SIM115 (for the process)
    # A terminal that is not UTF-8 (an ISO-8859-1 locale, PYTHONIOENCODING=ascii) cannot
    # show a card's "┌": written as \u250c, as Python writes stderr, not a traceback.
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    # Only the standard library above (last_signals uses nothing else): the commands (and
    # everything they import, half a second of it) load in here, so that a Ctrl-C during
    # the imports is answered too, and a SIGTERM to a server still loading (a container
    # stopped as it starts) is a clean stop, not the 143 of a killed process; the event
    # loop's handler replaces this one.
    _standard_streams()
    args = sys.argv[1:] if argv is None else list(argv)
    serving = next((a for a in args if not a.startswith("-")), None) in _SERVING
    status = 1  # a crash: its traceback is on its way
    try:
        if serving:  # in the try: a SIGTERM right after it is caught below
            signal.signal(signal.SIGTERM, _stop_while_loading)
            if hangup_stops():  # a terminal closed as it starts
                signal.signal(signal.SIGHUP, _stop_while_loading)
        from .cli_commands import run

        status = run(argv)
    except KeyboardInterrupt:
        # Ctrl-C: asyncio.run has cancelled the command, which closed what it opened; what
        # it recorded stands. Quiet, with the shell's status for it, like any other tool.
        status = 128 + signal.SIGINT
    except _StoppedWhileLoading:
        status = 0
    finally:
        if serving:
            # Stopped (or never started): a signal pressed again ends the process with its
            # status, not as killed, also while the interpreter winds down.
            exit_on_signal(status)
    return status


if __name__ == "__main__":
    sys.exit(main())
