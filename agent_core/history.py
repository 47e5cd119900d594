"""What happened in a thread, as typed values for people to read (traces, pages).

The bot and the CLI render these; they never read session files themselves.

A session's state is final once it ends: one that parked stays ``awaiting_approval``
for good, and what became of it is told by its approvals (decided, by whom) and by the
session that continued the thread (``continued_in``). Traces show both, so nobody reads
"awaiting approval" about a request that was decided days ago.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from approvals import (
    ApprovalRequest,
    Capsule,
    CardRef,
    Decision,
    ExecutionResult,
    Stage,
    Stale,
    capsule_ids,
    load_capsule,
)
from sessions import (
    Home,
    OutboxDone,
    OutboxEntry,
    SessionFiles,
    SessionRecord,
    SessionStore,
    ThreadDir,
    ThreadKey,
    TraceEvent,
    coordination_for,
    lineage,
)

__all__ = [
    "ApprovalState",
    "SessionHistory",
    "SlackWrite",
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
    # Approved, but its window closed before it started: it never runs.
    stale: Stale | None = None


@dataclass(frozen=True)
class SlackWrite:
    """A reply or card of a session on its way to Slack, as the thread's outbox tells it."""

    entry_id: str
    kind: Literal["reply", "card"]
    # sent (adopted: found in Slack after a restart; with an ``error``, in part: "posted
    # in part (2 of 5): is_archived"), failed (given up: ``error`` says why), or pending:
    # not sent yet (``at`` is when it was queued).
    outcome: Literal["sent", "adopted", "failed", "pending"]
    at: str
    error: str = ""
    approval_id: str = ""  # a card's, or that of signoff's own post about a request


@dataclass(frozen=True)
class SessionHistory:
    record: SessionRecord
    events: tuple[TraceEvent, ...]
    approvals: tuple[ApprovalState, ...]
    # The next session of the thread (its child), once the thread went on.
    continued_in: str | None = None
    writes: tuple[SlackWrite, ...] = ()  # in the order they were queued


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
                request.stale(),
            )
        )
    return out


_ENDED: dict[str, Literal["sent", "adopted", "failed"]] = {
    "sent": "sent",
    "adopted": "adopted",
    "failed": "failed",
}  # skipped: a card Slack showed already, a status; nothing to tell


def _write(item: OutboxEntry, done: OutboxDone | None) -> SlackWrite | None:
    if item.kind == "reply" or item.kind == "card":  # a notice or a status tells nothing
        kind: Literal["reply", "card"] = item.kind
    else:
        return None
    if done is None:
        return SlackWrite(item.id, kind, "pending", item.created_at, "", item.approval_id)
    outcome = _ENDED.get(done.outcome)
    if outcome is None:
        return None
    return SlackWrite(item.id, kind, outcome, done.at, done.error, item.approval_id)


def _writes(home: Home, thread: ThreadKey) -> dict[str, list[tuple[int, SlackWrite]]]:
    """The thread's replies and cards by what they belong to (a reply: its session; a card:
    its approval), each with its place in the queue."""
    outbox = coordination_for(home).outbox
    found: list[tuple[OutboxEntry, OutboxDone | None]]
    found = [(d.entry, d) for d in outbox.results(thread)]
    found += [(e, None) for e in outbox.waiting(thread)]
    out: dict[str, list[tuple[int, SlackWrite]]] = {}
    for item, done in found:
        write = _write(item, done)
        if write is not None:
            owner = item.approval_id if item.kind == "card" else item.session_id
            out.setdefault(owner, []).append((item.seq, write))
    return out


def _session(
    home: Home,
    record: SessionRecord,
    child: str | None,
    writes: dict[str, list[tuple[int, SlackWrite]]],
) -> SessionHistory:
    events = SessionFiles(home.session_dir(record.id)).read_trace()
    approvals = tuple(session_approvals(home, record.id))
    mine = list(writes.get(record.id, []))
    for state in approvals:
        mine += writes.get(state.capsule.id, [])
    ordered = tuple(write for _, write in sorted(mine, key=lambda w: (w[0], w[1].entry_id)))
    return SessionHistory(record, tuple(events), approvals, child, ordered)


def decisions_of(home: Home, session_id: str) -> SessionHistory:
    """A session with its requests and their decisions only (no events, no writes): what a
    list needs to say what became of a session that parked."""
    record = SessionStore(home).load(session_id)
    return SessionHistory(record, (), tuple(session_approvals(home, session_id)))


def thread_history(home: Home, session_id: str) -> ThreadHistory:
    """The whole thread that ``session_id`` belongs to, oldest session first."""
    store = SessionStore(home)
    record = store.load(session_id)
    head = ThreadDir(home, record.thread).head() or session_id
    chain = lineage(store, head)
    if all(s.id != session_id for s in chain):
        chain = lineage(store, session_id)
    children = [s.id for s in chain[1:]] + [None]
    writes = _writes(home, record.thread)
    return ThreadHistory(
        record.thread,
        session_id,
        tuple(_session(home, s, c, writes) for s, c in zip(chain, children, strict=True)),
    )
