"""What a thread's agent session must show now, from disk: the truth a ``status`` entry
carries to Slack when the process that changed it had no live view (a terminal).

``suspended`` while its conversation waits for a decision, ``active`` when nothing is left
to do, None while a turn runs or is due (the process running it shows that itself).
"""

from __future__ import annotations

from typing import Literal

from sessions import TERMINAL_STATES, Home, SessionState, SessionStore, ThreadDir, ThreadKey

__all__ = ["AgentStatus", "agent_status"]

AgentStatus = Literal["active", "suspended"]


def agent_status(home: Home, thread: ThreadKey) -> AgentStatus | None:
    directory = ThreadDir(home, thread)
    head = directory.head()
    if head is None:
        return "active"
    state = SessionStore(home).load(head).state
    if state == SessionState.AWAITING_APPROVAL:
        return "suspended"
    if (
        state in TERMINAL_STATES
        and not directory.open_approvals()
        and not directory.inbox.pending()
    ):
        return "active"
    return None
