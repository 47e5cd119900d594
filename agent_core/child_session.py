"""A thread's next session: a child of HEAD, created, made HEAD and started.

The worker decides when a thread needs one; this is how it comes to be. Its transcript
starts with a reference to HEAD's, not a copy. Its id is derived from its parent
(``ThreadDir.next_session_id``), so a child a crash created before HEAD moved is found
and adopted, never orphaned.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Sequence

from sessions import (
    AlreadyExistsError,
    SessionFiles,
    SessionRecord,
    SessionState,
    ThreadDir,
    ThreadKey,
    TranscriptReference,
    failpoint,
    off_loop,
    utc_iso,
)

from .messages import Message
from .runtime import Runtime
from .session_run import SessionRun

__all__ = ["start_child"]


async def start_child(
    rt: Runtime,
    tdir: ThreadDir,
    head: SessionRecord | None,
    cause: str,
    *,
    transcript: Sequence[Message] | None = None,
) -> SessionRun:
    """The thread's next session (a child of ``head``, if any), HEAD now and running.

    ``transcript``: ``head``'s, if the caller has read it (a new child's is the same, so
    it is not read again; an adopted one's may hold more, so it is)."""
    # Off the event loop: creating a session waits for several fsyncs.
    record, inherited = await off_loop(_create_child, rt, tdir, head, cause)
    # Together, so they share one commit: a commit writes every page it touched again.
    await asyncio.gather(
        rt.index.put_session(record),
        rt.index.put_thread(tdir.thread, record.id, utc_iso(rt.clock.now())),
    )
    # Only if its files hold exactly that: a reference takes complete lines, while a read
    # of ``head`` also returns an unterminated last record.
    fits = transcript is not None and len(transcript) == inherited
    run = SessionRun(rt, record, transcript=transcript if fits else None)
    if record.state == SessionState.CREATED:  # made by a version that started it apart
        await run.start()
    else:
        run.started()
    return run


def _create_child(
    rt: Runtime, tdir: ThreadDir, head: SessionRecord | None, cause: str
) -> tuple[SessionRecord, int | None]:
    """The thread's next session, created and made HEAD (or adopted if a crash made it);
    with how many of the parent's records it continues if created here (None if adopted)."""
    transcript = b""
    reference: TranscriptReference | None = None
    if head is not None:
        # A reference, not a copy: copying made a long thread write O(n²) bytes.
        reference = SessionFiles(rt.home.session_dir(head.id)).transcript_reference()
        transcript = (reference.line() + "\n").encode()
    session_id = tdir.next_session_id(head.id if head else None)
    inherited: int | None = reference.lines if reference is not None else 0
    try:
        record = rt.store.create(
            thread=tdir.thread,
            parent_id=head.id if head else None,
            cause=cause,
            session_md=_session_md(rt, tdir.thread, head, cause, reference, session_id),
            transcript=transcript,
            session_id=session_id,
            running=True,
        )
    except AlreadyExistsError:
        record = rt.store.load(session_id)  # adopt_head runs first; this is belt and braces
        inherited = None
    failpoint("drain.after_session_created")
    tdir.set_head(record.id)
    failpoint("drain.after_child_created")
    return record, inherited


def _session_md(
    rt: Runtime,
    thread: ThreadKey,
    head: SessionRecord | None,
    cause: str,
    reference: TranscriptReference | None,
    session_id: str,
) -> str:
    parent = f"`{head.id}` ({head.state.value})" if head else "none: first session of the thread"
    continues = ""
    if reference is not None:
        # transcript.jsonl holds only this session's lines: say where the rest lives.
        continues = (
            f"- transcript: continues from `{reference.session}` (its first {reference.lines}"
            f" lines); `signoff show {session_id}` prints it all\n"
        )
    return (
        f"# Session in thread {thread.label()}\n\n"
        f"- cause: {cause}\n- parent: {parent}\n{continues}\n"
        f"## System prompt\n\n{_prompt_section(rt, head)}"
    )


# The line that names a session's prompt: its hash, and where its text is when not here.
_PROMPT_LINE = re.compile(
    r"^sha256 `([0-9a-f]{16})`(?:, as in session `(sess_[0-9a-f]{12})`)?", re.M
)


def _prompt_section(rt: Runtime, head: SessionRecord | None) -> str:
    """The prompt's text, or where it is: the same ~450 bytes for every message of a
    thread were most of what a short turn wrote (issue 14). A parent written before, or
    unreadable, has its prompt named here again, in full."""
    digest = hashlib.sha256(rt.system_prompt.encode()).hexdigest()[:16]
    holder = None
    if head is not None:
        try:
            found = _PROMPT_LINE.search((rt.home.session_dir(head.id) / "SESSION.md").read_text())
        except (OSError, UnicodeDecodeError):
            found = None
        if found is not None and found.group(1) == digest:
            holder = found.group(2) or head.id
    if holder is None:
        return f"sha256 `{digest}`\n\n{rt.system_prompt}\n"
    where = rt.home.session_dir(holder).relative_to(rt.home.root) / "SESSION.md"
    return f"sha256 `{digest}`, as in session `{holder}` (`{where}`)\n"
