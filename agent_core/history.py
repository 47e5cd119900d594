"""What happened in a thread, as typed values for people to read (traces, pages).

The bot and the CLI render these; they never read session files themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from approvals import ApprovalRequest, Capsule, CardRef, Decision, Stage, capsule_ids, load_capsule
from sessions import (
    Home,
    SessionFiles,
    SessionRecord,
    SessionStore,
    ThreadDir,
    ThreadKey,
    TraceEvent,
    lineage,
)

__all__ = [
    "ApprovalState",
    "SessionHistory",
    "ThreadHistory",
    "session_approvals",
    "thread_history",
]


@dataclass(frozen=True)
class ApprovalState:
    capsule: Capsule
    stage: Stage
    decision: Decision | None
    card: CardRef | None


@dataclass(frozen=True)
class SessionHistory:
    record: SessionRecord
    events: tuple[TraceEvent, ...]
    approvals: tuple[ApprovalState, ...]


@dataclass(frozen=True)
class ThreadHistory:
    thread: ThreadKey
    focus: str  # the session that was asked for
    sessions: tuple[SessionHistory, ...]  # oldest first


def session_approvals(home: Home, session_id: str) -> list[ApprovalState]:
    directory = home.session_dir(session_id)
    out = []
    for approval_id in capsule_ids(directory):
        request = ApprovalRequest(home, load_capsule(directory, approval_id))
        out.append(
            ApprovalState(request.capsule, request.stage(), request.decision(), request.card())
        )
    return out


def _session(home: Home, record: SessionRecord) -> SessionHistory:
    events = SessionFiles(home.session_dir(record.id)).read_trace()
    return SessionHistory(record, tuple(events), tuple(session_approvals(home, record.id)))


def thread_history(home: Home, session_id: str) -> ThreadHistory:
    """The whole thread that ``session_id`` belongs to, oldest session first."""
    store = SessionStore(home)
    record = store.load(session_id)
    head = ThreadDir(home, record.thread).head() or session_id
    chain = lineage(store, head)
    if all(s.id != session_id for s in chain):
        chain = lineage(store, session_id)
    return ThreadHistory(record.thread, session_id, tuple(_session(home, s) for s in chain))
