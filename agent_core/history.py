"""What happened in a thread, as typed values for people to read (traces, pages).

The bot and the CLI render these; they never read session files themselves.

A session's state is final once it ends: one that parked stays ``awaiting_approval``
for good, and what became of it is told by its approvals (decided, by whom) and by the
session that continued the thread (``continued_in``). Traces show both, so nobody reads
"awaiting approval" about a request that was decided days ago.
"""

from __future__ import annotations

from dataclasses import dataclass

from approvals import (
    ApprovalRequest,
    Capsule,
    CardRef,
    Decision,
    ExecutionResult,
    Stage,
    capsule_ids,
    load_capsule,
)
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
    result: ExecutionResult | None = None
    # The session that told the model the outcome.
    told_in: str | None = None


@dataclass(frozen=True)
class SessionHistory:
    record: SessionRecord
    events: tuple[TraceEvent, ...]
    approvals: tuple[ApprovalState, ...]
    # The next session of the thread (its child), once the thread went on.
    continued_in: str | None = None


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
        told = request.told()
        out.append(
            ApprovalState(
                request.capsule,
                request.stage(),
                request.decision(),
                request.card(),
                request.result(),
                told.session_id if told else None,
            )
        )
    return out


def _session(home: Home, record: SessionRecord, child: str | None) -> SessionHistory:
    events = SessionFiles(home.session_dir(record.id)).read_trace()
    approvals = tuple(session_approvals(home, record.id))
    return SessionHistory(record, tuple(events), approvals, child)


def thread_history(home: Home, session_id: str) -> ThreadHistory:
    """The whole thread that ``session_id`` belongs to, oldest session first."""
    store = SessionStore(home)
    record = store.load(session_id)
    head = ThreadDir(home, record.thread).head() or session_id
    chain = lineage(store, head)
    if all(s.id != session_id for s in chain):
        chain = lineage(store, session_id)
    children = [s.id for s in chain[1:]] + [None]
    return ThreadHistory(
        record.thread,
        session_id,
        tuple(_session(home, s, c) for s, c in zip(chain, children, strict=True)),
    )
