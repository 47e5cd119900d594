"""One bot per home: ``signoff run`` and ``signoff dev`` hold ``bot.lock`` while they run.

A second bot on a home has no safe part to play. Its start-up recovery and its sweep take
the first one's replies that are streaming into Slack for what a dead process left and
delete them; Slack hands each envelope to either connection, so a click may reach the one
being stopped; and two ``dev`` chats would share one state file. The lock is an flock, so
a killed bot leaves nothing to clean up, and terminal commands (``approve``, ``recover``,
``pending`` …) never take it: they work beside the bot.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from sessions import Home, try_file_lock

from .errors import ConfigError

__all__ = ["one_bot_per_home", "running_bot"]

Command = Literal["run", "dev"]


def _holder(home: Home) -> tuple[str, str]:
    """What the bot holding the lock wrote of itself ("signoff run (pid 12)") and what to
    do about it; "run or dev" if it has not written it yet."""
    try:
        command, pid = home.bot_lock.read_text(encoding="ascii").split()
    except (OSError, UnicodeDecodeError, ValueError):
        command, pid = "", ""
    if command == "dev" and pid.isdigit():
        return f"signoff dev (pid {pid})", "use its page, or stop it"
    if command == "run" and pid.isdigit():
        return f"signoff run (pid {pid})", "stop it first"
    return "signoff run or dev", "stop it first"


@contextmanager
def one_bot_per_home(home: Home, *, command: Command) -> Iterator[None]:
    """Hold the home for this bot; a ConfigError at once when another bot holds it."""
    with try_file_lock(home.bot_lock) as alone:
        if not alone:
            holder, advice = _holder(home)
            raise ConfigError(
                f"another {holder} uses {home.root}: one bot per home; {advice} "
                "(or set SIGNOFF_HOME to another directory)"
            )
        # Written beside the lock, for the message above; a stale line is harmless.
        home.bot_lock.write_text(f"{command} {os.getpid()}\n", encoding="ascii")
        yield


def running_bot(home: Home) -> str | None:
    """Which bot runs on ``home`` now ("signoff run (pid 12)"), or None: a look, taking
    nothing (a terminal command that must not act beside a bot asks it)."""
    with try_file_lock(home.bot_lock) as alone:
        return None if alone else _holder(home)[0]
