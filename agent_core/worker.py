"""The thread worker: one at a time per thread, across processes (design flow 2).

Under the thread's flock it closes a session a crash left running, starts a child of
HEAD, records each inbox message (moving it to ``cur/`` only after it is recorded),
settles open calls, and runs the loop. It repeats while there is work, so a message
that arrives mid-turn is picked up by the same worker.
"""

from __future__ import annotations

from approvals import capsule_ids, load_decision, locate
from sessions import (
    IllegalTransitionError,
    InboxMessage,
    SessionRecord,
    SessionState,
    StaleStateError,
    ThreadDir,
    ThreadKey,
    WorkQueue,
    failpoint,
    file_lock_async,
    utc_iso,
)

from .loop import lost_replies, park, post_cards, run_loop, say
from .messages import AssistantMessage, UserMessage
from .mirror import mark_told
from .runtime import KillSwitchOn, Runtime
from .session_run import SessionRun
from .settle import settle

__all__ = ["close_crashed", "process_thread"]


async def close_crashed(rt: Runtime, record: SessionRecord) -> SessionRecord:
    """A session found non-terminal by the lock holder was left by a crash."""
    try:
        record = rt.store.transition(
            record.id,
            expected=record.state,
            new=SessionState.FAILED,
            reason="crashed: the process stopped while this session ran; a child continues it",
        )
    except (StaleStateError, IllegalTransitionError):
        record = rt.store.load(record.id)
    await rt.index.put_session(record)
    return record


def _decided_work(rt: Runtime, head: SessionRecord) -> bool:
    """Does HEAD wait on approvals that are now all decided?"""
    run = SessionRun(rt, head)
    for placeholder in run.pending_placeholders():
        session_dir, _ = locate(rt.home, placeholder.approval_id)
        if load_decision(session_dir, placeholder.approval_id) is not None:
            return True
    if head.state != SessionState.AWAITING_APPROVAL:
        return False
    directory = rt.home.session_dir(head.id)
    ids = capsule_ids(directory)
    return bool(ids) and all(load_decision(directory, i) is not None for i in ids)


async def _start_child(
    rt: Runtime, tdir: ThreadDir, head: SessionRecord | None, cause: str
) -> SessionRun:
    transcript = b""
    if head is not None:
        transcript = (rt.home.session_dir(head.id) / "transcript.jsonl").read_bytes()
    record = rt.store.create(
        thread=tdir.thread,
        parent_id=head.id if head else None,
        cause=cause,
        session_md=_session_md(tdir.thread, head, cause),
        transcript=transcript,
    )
    failpoint("drain.after_session_created")
    # HEAD first: a crash from here on leaves a non-terminal HEAD that the next worker
    # closes and continues, instead of an orphan nobody looks at.
    tdir.set_head(record.id)
    failpoint("drain.after_child_created")
    await rt.index.put_session(record)
    await rt.index.put_thread(tdir.thread, record.id, utc_iso(rt.clock.now()))
    run = SessionRun(rt, record)
    await run.start()
    return run


def _session_md(thread: ThreadKey, head: SessionRecord | None, cause: str) -> str:
    parent = f"`{head.id}` ({head.state.value})" if head else "none: first session of the thread"
    from .runtime import SYSTEM_PROMPT

    return (
        f"# Session in thread {thread.label()}\n\n"
        f"- cause: {cause}\n- parent: {parent}\n\n## System prompt\n\n{SYSTEM_PROMPT}\n"
    )


def _record_messages(run: SessionRun, tdir: ThreadDir, pending: list[InboxMessage]) -> None:
    recorded = {m.ts for m in run.transcript if isinstance(m, UserMessage)}
    for message in pending:
        if message.ts not in recorded:
            run.append(UserMessage(text=message.text, user=message.user, ts=message.ts))
            run.trace("message", message.model_dump(mode="json"))
        failpoint("drain.after_message_recorded")
        tdir.inbox.mark_consumed(message.key)


def _needs_model(run: SessionRun) -> bool:
    last = run.transcript[-1] if run.transcript else None
    return last is not None and not (isinstance(last, AssistantMessage) and not last.tool_calls)


async def process_thread(rt: Runtime, thread: ThreadKey) -> None:
    tdir = ThreadDir(rt.home, thread)
    tdir.ensure()
    queue = WorkQueue(rt.home)
    async with file_lock_async(tdir.lock_path):
        tdir.inbox.clean_tmp(older_than=60.0)
        while True:
            if rt.killed():
                return
            head_id = tdir.head()
            head = rt.store.load(head_id) if head_id else None
            cause = ""
            crashed: SessionRecord | None = None
            if head is not None and not head.terminal:
                head = crashed = await close_crashed(rt, head)
                failpoint("recovery.after_close")
                cause = "recovery"
            pending = tdir.inbox.pending()
            if pending:
                cause = cause or "message"
            elif not cause and head is not None and _decided_work(rt, head):
                cause = "decision"
            if not cause:
                queue.clear(thread)
                if tdir.inbox.pending():
                    continue
                return
            run = await _start_child(rt, tdir, head, cause)
            if crashed is not None:
                for text in lost_replies(rt, crashed):
                    await say(run, text)
            _record_messages(run, tdir, pending)
            try:
                outcome = await settle(run)
            except KillSwitchOn:
                await run.finish(SessionState.CANCELLED, "kill switch")
                return
            for approval_id in outcome.told:
                await mark_told(rt, approval_id, run.id)
            await post_cards(rt, [c for c in outcome.parked if c.session_id != run.id])
            own = [c for c in outcome.parked if c.session_id == run.id]
            if own:
                await park(run, own)
                continue
            if _needs_model(run):
                await run_loop(run)
            else:
                await run.finish(SessionState.COMPLETED, "nothing to do")
