"""What a terminal command says of the approved calls it left waiting for their tool.

``say``, ``approve``, ``deny`` and ``recover`` carry a thread on in their own process. An
approved call whose tool cannot run there (unavailable, or not among the terminal's
tools) is deferred, never spent, and the thread is told at its first deferral only. The
person at the terminal is told each time, here: one line per call on stderr, and an exit
status that says the work is not done (a deferral again used to end 0, silently).
"""

from __future__ import annotations

import sqlite3
import sys

from agent_core.engine import Engine
from approvals import ApprovalRequest, ApprovalsError
from sessions import SessionsError

from .terminal_text import printable

__all__ = ["said_deferred"]


async def said_deferred(engine: Engine) -> bool:
    """Say on stderr each approved call this process deferred and left unclaimed; True
    when there was one. Called before the engine closes (it reads the index)."""
    said = False
    try:
        async for row in engine.rt.index.iter_approvals(untold=True):
            try:
                request = ApprovalRequest.open(engine.home, row.id)
                decision = request.decision()
                deferrals = request.deferrals()
                claimed = request.claimed() is not None
            except (SessionsError, ApprovalsError):
                continue  # recovery says what it cannot read
            if decision is None or decision.verdict != "approved" or claimed or not deferrals:
                continue
            last = deferrals[-1]
            if last.boot != engine.rt.boot:
                continue  # another process's attempt: not what this command did
            sys.stderr.write(
                printable(
                    f"signoff: {row.id} is approved, but `{request.capsule.tool}` did not run "
                    f"here: {last.reason}; nothing ran and the approval stands: a running "
                    "bot, or `signoff recover` where the tool is available, runs it"
                )
                + "\n"
            )
            said = True
    except (sqlite3.Error, OSError):
        pass  # the index unusable: ``_unfinished`` says why the thread was not carried on
    return said
