"""The thread worker: one at a time per thread, across processes (design flow 2).

Under the thread's flock it asks one question until the answer is "nothing": what does
this thread need? A message waiting in the inbox, a session a crash left open, or an
approval that was decided (or is due to expire) whose outcome the conversation has not
heard yet. Any of these starts a child of HEAD, which records the messages, settles open
calls (``settle``) and runs the loop.

Orderings that make crashes harmless:
- a child's id is derived from its parent (``child_session``), so a child a crash
  created before HEAD moved is found and adopted, never orphaned;
- a crashed session is closed only after its child exists and is HEAD, so no kill
  leaves a closed session that nothing continues;
- the thread's work-queue marker is cleared only when the answer is "nothing".
"""

from __future__ import annotations

import logging
from datetime import datetime

from approvals import ApprovalRequest, ApprovalsError, expired, read_once
from sessions import (
    IllegalTransitionError,
    InboxMessage,
    SessionFiles,
    SessionRecord,
    SessionsError,
    SessionState,
    StaleStateError,
    ThreadDir,
    ThreadKey,
    failpoint,
    off_loop,
)

from .child_session import start_child
from .deferral import retry_due
from .early_call import EarlyCall, start_early_call
from .loop import park, queue_reply, run_loop
from .message_taking import record_messages
from .messages import AssistantMessage, EventMessage, ToolResultMessage
from .observe import SessionStateChanged
from .runtime import KillSwitchOn, Runtime
from .session_run import SessionRun
from .settle import settle
from .staleness import tell_frozen_approvals, tell_stale_approvals
from .thread_wait import holding_thread

__all__ = ["close_crashed", "mark_interrupted", "process_thread"]

log = logging.getLogger("signoff.worker")

CRASHED = "crashed: its turn was cut off (the process stopped, or the turn failed)"
CUT = "interrupted: the process stopped during this turn; the next start continues it"


async def close_crashed(rt: Runtime, record: SessionRecord, *, successor: str = "") -> None:
    """Close a session a crash left open (its successor, if any, already continues it)."""
    reason = f"{CRASHED}; {successor} continues it" if successor else CRASHED
    try:
        # On a disk thread, as every state change: it may wait for the session's lock.
        record = await off_loop(
            rt.store.transition,
            record.id,
            expected=record.state,
            new=SessionState.FAILED,
            reason=reason,
            after_crash=True,
        )
    except (StaleStateError, IllegalTransitionError):
        record = rt.store.load(record.id)
    await rt.index.put_session(record)
    rt.observer.emit(
        SessionStateChanged(
            session_id=record.id, thread=record.thread, state=record.state.value, reason=reason
        )
    )


async def mark_interrupted(rt: Runtime, thread: ThreadKey) -> None:
    """A stop cut this thread's turn: its session says so (``interrupted``) instead of
    ``running`` until the next start, which continues it as it continues a crashed one."""
    with rt.coordination.thread_locks.try_hold(thread) as free:
        if not free:
            return  # another process (``signoff recover``) took the thread: it continues it
        head_id = ThreadDir(rt.home, thread).adopt_head(rt.store)
        if head_id is None or rt.store.load(head_id).state is not SessionState.RUNNING:
            return
        try:
            record = await off_loop(
                rt.store.transition,
                head_id,
                expected=SessionState.RUNNING,
                new=SessionState.INTERRUPTED,
                reason=CUT,
            )
        except StaleStateError:
            return  # a write of the cut turn still on its way ended it after all
        # Under the lock: a ``signoff recover`` that takes the thread next writes its
        # close after this, never before (the index keeps the last write).
        await rt.index.put_session(record)
    rt.observer.emit(
        SessionStateChanged(
            session_id=record.id, thread=record.thread, state=record.state.value, reason=CUT
        )
    )


async def _current_head(rt: Runtime, tdir: ThreadDir) -> SessionRecord | None:
    head_id = tdir.adopt_head(rt.store)
    if head_id is None:
        return None
    head = rt.store.load(head_id)
    # Only HEAD may be open: an older session still open is one a crash left behind.
    parent_id = head.parent_id
    while parent_id is not None:
        parent = rt.store.load(parent_id)
        if parent.terminal:
            break
        _requeue_replies(rt, parent)  # before it is closed: see ``_turn``
        await close_crashed(rt, parent, successor=head.id)
        parent_id = parent.parent_id
    return head


def _told_in(messages: list[object], approval_id: str) -> bool:
    """Does the conversation hold this approval's outcome (not just "pending")?"""
    for m in messages:
        if isinstance(m, EventMessage) and m.approval_id == approval_id:
            return True
        told = isinstance(m, ToolResultMessage) and m.status != "pending"
        if told and getattr(m, "approval_id", "") == approval_id:
            return True
    return False


def _decided_work(rt: Runtime, tdir: ThreadDir, head: SessionRecord | None) -> bool:
    """Is an approval asked in this thread decided (or due) but not told yet?"""
    ids = tdir.open_approvals()
    if not ids:
        return False
    heard = SessionRun(rt, head).transcript if head is not None else []
    now = rt.clock.now()
    work = False
    for approval_id in ids:
        try:
            request = ApprovalRequest.open(rt.home, approval_id, clock=rt.clock)
        except (SessionsError, ApprovalsError) as exc:
            # Unreadable or tampered: settle reports it (it never runs); that is work too.
            log.warning("open approval %s cannot be read: %s", approval_id, exc)
            work = True
            continue
        if _told_in(list(heard), approval_id):
            request.finish()  # a crash came between telling and closing the marker
        elif not retry_due(rt, request, now):
            continue  # its tool was unavailable; the sweep wakes the thread when it is due
        elif all(_ready(rt, other, now) for other in request.capsule.batch):
            # A model turn that asked for several calls resumes when all are decided.
            work = True
    return work


def _ready(rt: Runtime, approval_id: str, now: datetime) -> bool:
    """Decided, or due to expire (settle expires it)."""
    try:
        request = ApprovalRequest.open(rt.home, approval_id, clock=rt.clock)
    except (SessionsError, ApprovalsError):
        return True  # unreadable: settle reports it, so it holds nothing up
    return request.decision() is not None or expired(request.capsule, now)


def _cause(
    rt: Runtime, tdir: ThreadDir, head: SessionRecord | None, pending: list[InboxMessage]
) -> str:
    if head is not None and not head.terminal:
        return "recovery"
    if pending:
        return "message"
    if _decided_work(rt, tdir, head):
        return "decision"
    return ""


def _files(rt: Runtime, session_id: str) -> SessionFiles:
    return SessionFiles(rt.home.session_dir(session_id))


def _requeue_replies(rt: Runtime, crashed: SessionRecord) -> None:
    """Queue every answer the crashed session gave; ids make this a no-op for queued ones."""
    files = _files(rt, crashed.id)
    own = files.read_transcript()
    start = files.inherited_lines()
    if start is None:  # an older session holding a full copy of its parent's
        start = 0
        if crashed.parent_id is not None:
            start = len(_files(rt, crashed.parent_id).read_transcript())
    people: tuple[str, ...] | None = None  # read once, only if a reply mentions someone
    for index in range(start, len(own)):
        record = own[index]
        text = str(record.get("text") or "")
        if record.get("role") == "assistant" and text.strip():
            mentions: tuple[str, ...] = ()
            if "<@" in text:  # as ``say`` queues it: the thread's people stay mentions
                people = SessionRun(rt, crashed).people() if people is None else people
                mentions = people
            queue_reply(rt, crashed.thread, crashed.id, f"m{index}", text, people=mentions)


def _needs_model(run: SessionRun) -> bool:
    last = run.transcript[-1] if run.transcript else None
    return last is not None and not (isinstance(last, AssistantMessage) and not last.tool_calls)


async def process_thread(rt: Runtime, thread: ThreadKey) -> None:
    tdir = ThreadDir(rt.home, thread)
    tdir.ensure()
    async with holding_thread(rt.coordination.thread_locks, thread, rt.thread_wait):
        tdir.inbox.clean_staging(older_than=60.0)
        while True:
            with read_once():  # the checks and the turn below open the same approvals
                if not await _pass(rt, tdir, thread):
                    return


async def _pass(rt: Runtime, tdir: ThreadDir, thread: ThreadKey) -> bool:
    """What the thread needs now, and its turn; False when there is nothing more to do."""
    queue = rt.coordination.work_queue
    if rt.killed():
        tell_frozen_approvals(rt, tdir.open_approvals())
        return False
    tell_stale_approvals(rt, tdir.open_approvals())  # when due, not when it can start
    head = await _current_head(rt, tdir)
    pending = tdir.inbox.pending()
    cause = _cause(rt, tdir, head, pending)
    if not cause:
        queue.clear(thread)
        if tdir.inbox.pending():
            queue.mark(thread)  # arrived between the look and the clear
            return True
        return False
    return await _turn(rt, tdir, head, cause, pending)


async def _turn(
    rt: Runtime,
    tdir: ThreadDir,
    head: SessionRecord | None,
    cause: str,
    pending: list[InboxMessage],
) -> bool:
    """One child session; False when the worker must stop (the kill switch)."""
    # Asked before the writes below: they queue behind other threads' under a burst. Not
    # when settle will tell a decided approval first: the call would not fit.
    early = None
    if cause == "message" and not _decided_work(rt, tdir, head):
        early = start_early_call(rt, head, cause, pending)
    try:
        return await _run_turn(rt, tdir, head, cause, pending, early)
    finally:
        if early is not None:
            let_go = await early.close()  # a no-op once its reply was used
            if let_go is not None:
                rt.observer.emit(let_go)


async def _run_turn(
    rt: Runtime,
    tdir: ThreadDir,
    head: SessionRecord | None,
    cause: str,
    pending: list[InboxMessage],
    early: EarlyCall | None,
) -> bool:
    # A new child starts from its parent's transcript, which the early call has read.
    run = await start_child(rt, tdir, head, cause, transcript=early.transcript if early else None)
    if early is not None:
        early.session_id = run.id
    if head is not None and not head.terminal:
        # Its answers are queued before it is closed: once closed it is no longer "crashed",
        # so a kill between the two would lose them (queueing again is a no-op).
        _requeue_replies(rt, head)
        await close_crashed(rt, head, successor=run.id)
        failpoint("recovery.after_close")
    try:
        # Calls already asked are settled first, so their results follow the call that
        # asked (providers require it) and the new messages come last: the model answers
        # them, not an old result.
        outcome = await settle(run)
    except KillSwitchOn:
        await run.finish(SessionState.CANCELLED, "kill switch")
        return False
    if outcome.parked:
        await park(run, outcome.parked)
        return True  # the new messages wait in the inbox for the next session
    await record_messages(run, tdir, pending)
    if outcome.deferred and not pending and not outcome.told:
        # Only an approved call that must wait for its tool: the thread was told, and the
        # model has nothing new to answer.
        await run.finish(SessionState.COMPLETED, "an approved call waits for its tool")
        return True
    if _needs_model(run):
        await run_loop(run, early=early)
    else:
        await run.finish(SessionState.COMPLETED, "nothing to do")
    return True
