"""What a terminal command says while it waits for another process's turn in its thread.

``say``, ``approve``, ``deny`` and ``recover`` continue a thread after what they record,
and a thread runs one turn at a time: a bot's turn there (minutes of model and tool calls)
or a terminal suspended with Ctrl-Z inside one keeps them waiting, by design. After
``SLOW_TURN_S`` they say so on stderr, once, and wait on.
"""

from __future__ import annotations

import sys

from agent_core.thread_wait import ThreadWait
from sessions import ThreadKey

from .terminal_text import printable

__all__ = ["SLOW_TURN_S", "terminal_thread_wait"]

# Long enough that a turn ending a moment later (the common case beside a bot) passes
# without a word; short enough that nobody takes the silence for a hang first.
SLOW_TURN_S = 3.0


def _stopped(pid: int) -> bool:
    """Is ``pid`` stopped (Ctrl-Z, SIGSTOP)? Its state in /proc (Linux); False unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            state = stat.read().rpartition(")")[2].split()[:1]
    except OSError:
        return False
    return state in (["T"], ["t"])


def _tell(thread: ThreadKey, pid: int | None) -> None:
    if pid is None:
        holder = "another process runs it"
    elif _stopped(pid):
        holder = (
            f"process {pid} runs it; it is stopped, as by Ctrl-Z: `fg` in its terminal or "
            f"`kill -CONT {pid}` lets it go on"
        )
    else:
        holder = f"process {pid} runs it"
    line = (
        f"signoff: waiting for the turn in thread {thread.label()} to end ({holder}); "
        "Ctrl-C stops waiting, and what this command recorded stays: a running bot or "
        "`signoff recover` carries the thread on"
    )
    sys.stderr.write(printable(line) + "\n")
    sys.stderr.flush()


def terminal_thread_wait(after: float = SLOW_TURN_S) -> ThreadWait:
    return ThreadWait(after=after, tell=_tell)
