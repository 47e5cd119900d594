"""What a thread's agent session must show now, from disk: the truth a ``status`` entry
carries to Slack when the process that changed it had no live view (a terminal).

``suspended`` while its conversation waits for a decision, ``active`` when nothing is left
to do, None while a turn runs or is due — a message waits, a decision came — (the process
running it shows that itself).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from approvals import ApprovalRequest, ApprovalsError
from sessions import (
    TERMINAL_STATES,
    Home,
    Index,
    SessionsError,
    SessionState,
    SessionStore,
    ThreadDir,
    ThreadKey,
)

__all__ = ["AgentStatus", "agent_status", "recent_threads"]

AgentStatus = Literal["active", "suspended"]
AWAITING = SessionState.AWAITING_APPROVAL
# Open states that show no turn working: parked, or cut by a drain (nothing runs it until
# the next start, whose recovery turn shows itself).
_SAID = (AWAITING, SessionState.INTERRUPTED)


def agent_status(home: Home, thread: ThreadKey) -> AgentStatus | None:
    directory = ThreadDir(home, thread)
    if directory.inbox.pending():
        return None  # a message waits for its turn
    head = directory.head()
    state = SessionStore(home).load(head).state if head is not None else None
    if state is not None and state not in TERMINAL_STATES and state not in _SAID:
        return None  # a turn runs (or a crash left one, which recovery runs)
    waiting = directory.open_approvals()
    if any(_decided(home, approval) for approval in waiting):
        return None  # the decision's turn is due
    return "suspended" if waiting or state == AWAITING else "active"


def _decided(home: Home, approval_id: str) -> bool:
    try:
        return ApprovalRequest.open(home, approval_id).decision() is not None
    except (SessionsError, ApprovalsError):
        return False  # unreadable: the sweep and recovery report it, not this


async def recent_threads(index: Index, *, within_s: float, limit: int = 500) -> list[ThreadKey]:
    """The threads whose sessions changed within ``within_s`` of the newest change on
    record: where a process that stopped (a kill just after a session ended) may have left
    the agent session showing what is over; older ones had the time to be shown."""
    rows = await index.sessions(limit=limit)
    if not rows:
        return []
    since = datetime.fromisoformat(rows[0].updated_at) - timedelta(seconds=within_s)
    recent = (r.thread for r in rows if datetime.fromisoformat(r.updated_at) >= since)
    return list(dict.fromkeys(recent))
