"""A person edits or deletes a message that waits in its thread's inbox.

A message waits in ``inbox/new/`` until a session records it (a thread busy with a turn,
or waiting on a lock); meanwhile its author may fix a typo, or take back a request they
regret. While it waits, an edit replaces its text and a deletion withdraws it: it is
never answered, and ``taken.jsonl`` records it as withdrawn, so a redelivery of the
original cannot bring it back. Once a session has read it, it belongs to the transcript
and the answer was written for it as it was: an edit or a deletion then changes nothing
(``READ_ALREADY``).

Slack delivers an edit again when it did not hear the ack, late and in no set order with
the next edit; each edit says when it was made (``edited.ts``), and the waiting message
keeps that of its text (``edited_ts``), so an older edit arriving after a newer one is
``older`` and changes nothing, whether it would revise the message or withdraw it (an
edit that no longer asks signoff). A withdrawal by such an edit keeps its date, and a
newer edit that asks signoff again undoes it (``restored``: the caller stores the message
as edited); a deletion's is final. (A redelivery of the message itself is a duplicate the
inbox refuses: its first text never comes back either.)

The thread's worker reads and records a message holding a lock on its file (``held_message``);
an edit or a deletion takes the same lock. So either the change lands first and the
session records the new text (or nothing), or the worker read the message first and the
change is too late: never a session that answered one text while its transcript keeps
another. An edit replaces the file (a new inode), so a lock is only good once the locked
file is still the one the name leads to.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import AsyncIterator, Iterator
from typing import Literal

from pydantic import ValidationError

from .atomic import make_dirs, read_file, replace_atomically
from .errors import CorruptRecordError, LockBusyError
from .files import SessionFiles
from .ids import check_slack_ts, ts_after
from .inbox import Inbox, InboxMessage
from .locks import flock_within
from .off_loop import off_loop
from .threads import ThreadDir

__all__ = ["EditOutcome", "held_message", "revise_message", "withdraw_message"]

# revised / withdrawn: done; unchanged: the same text (Slack also says "changed" when a
# thread's replies change its parent); older: an edit made before the one the text comes
# from, delivered late; read_already: a session has it; unknown: never stored here (or not
# the editor's own message); stored_early / withdrawn_early: the change came before the
# message itself (which signoff would take), stored as changed (``agent_core.ingest``) or
# recorded withdrawn, so the message, when it comes, is a duplicate; restored: withdrawn
# by an older edit that took the mention out, this newer one asks again (stored by ingest).
EditOutcome = Literal[
    "revised",
    "unchanged",
    "older",
    "withdrawn",
    "read_already",
    "unknown",
    "stored_early",
    "withdrawn_early",
    "restored",
]

# An edit waits this long for a worker that is recording the message (milliseconds, as a
# rule); past it, a stopped process holds the lock and Slack's redelivery is the retry.
EDIT_WAIT_S = 2.0


def _lock_current(inbox: Inbox, key: str, wait: float | None) -> tuple[int, InboxMessage] | None:
    """A locked descriptor of the message waiting as ``key`` and what it says now; None
    when nothing waits by that name (taken, withdrawn, or never stored)."""
    path = inbox.new / check_slack_ts(key)
    while True:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            if wait is None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            else:
                flock_within(fd, path, wait)
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                os.close(fd)
                return None  # taken or withdrawn while this waited
            if not same:
                os.close(fd)
                continue  # an edit replaced it meanwhile: lock the file there now
            if inbox.taken_log.withdrawn([key]):
                # A deletion killed before its unlink: withdrawn all the same, finished now.
                path.unlink(missing_ok=True)
                os.close(fd)
                return None
            return fd, _read(path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.close(fd)
            raise


def _read(path: os.PathLike[str]) -> InboxMessage:
    try:
        return InboxMessage.model_validate_json(read_file(path))
    except (ValidationError, ValueError) as exc:
        raise CorruptRecordError(f"{path}: not an inbox message") from exc


@contextlib.contextmanager
def _holding(got: tuple[int, InboxMessage] | None) -> Iterator[InboxMessage | None]:
    """What a locked message says, the lock let go after; None: nothing waits."""
    if got is None:
        yield None
        return
    fd, current = got
    try:
        yield current
    finally:
        os.close(fd)


def _locked(inbox: Inbox, key: str) -> contextlib.AbstractContextManager[InboxMessage | None]:
    return _holding(_lock_current(inbox, key, EDIT_WAIT_S))


def _gone(inbox: Inbox, key: str) -> EditOutcome:
    return "read_already" if inbox.taken_log.has(key) else "unknown"


def _recorded(tdir: ThreadDir, key: str) -> bool:
    """Has a session recorded ``key`` though it still waits? A kill between the worker's
    record and its mark leaves it so, unlocked; the next turn answers it as recorded. Read
    only for an edit that would change a waiting message (rare): the thread's transcript."""
    head = tdir.head()
    if head is None:
        return False
    records = SessionFiles(tdir.home.session_dir(head)).read_transcript()
    return any(r.get("role") == "user" and r.get("ts") == key for r in records)


def _older(edited: str, than: str) -> bool:
    """Was the edit dated ``edited`` made before the one dated ``than``? ("": the message as
    posted, before any edit; two undated ones are not ordered.)"""
    if not than:
        return False
    return not edited or ts_after(than, edited)


def revise_message(tdir: ThreadDir, key: str, *, user: str, text: str, edited: str) -> EditOutcome:
    """``user``'s waiting message ``key`` says ``text`` from now on, as of their edit dated
    ``edited`` (Slack's ``edited.ts``; "" when Slack did not date it): unless the text
    waiting comes from a later edit (durable on return)."""
    inbox = tdir.inbox
    with _locked(inbox, key) as current:
        if current is None:
            return _restored(inbox, key, edited) or _gone(inbox, key)
        if current.user != user:
            return "unknown"  # Slack lets only the author edit: not this message
        if _older(edited, current.edited_ts):
            return "older"
        newer = edited if _older(current.edited_ts, edited) else current.edited_ts
        if current.text == text:
            if newer != current.edited_ts:
                # Edited back to what it says (A, B, A): dated, so a late B stays out.
                _rewrite(inbox, current, text=text, edited=newer)
            return "unchanged"
        if _recorded(tdir, key):
            return "read_already"
        _rewrite(inbox, current, text=text, edited=newer)
        return "revised"


def _restored(inbox: Inbox, key: str, edited: str) -> EditOutcome | None:
    """An edit that asks signoff again, newer than the one that withdrew ``key`` by taking
    its mention out: no longer withdrawn, for the caller to store as edited. (A deletion
    stays final; an older edit, delivered late, changes nothing.)"""
    with inbox.turn(key):
        since = inbox.taken_log.withdrawn_by_edit(key)
        if since is None or not _older(since, edited) or inbox.waiting(key):
            return None
        inbox.taken_log.restore(key)
        return "restored"


def _rewrite(inbox: Inbox, current: InboxMessage, *, text: str, edited: str) -> None:
    revised = InboxMessage.model_validate(
        {**current.model_dump(), "text": text, "edited_ts": edited}
    )
    replace_atomically(inbox.new / current.key, revised.model_dump_json().encode())


def withdraw_message(
    tdir: ThreadDir, key: str, *, edited: str | None = None, before_it_came: bool = False
) -> EditOutcome:
    """The waiting message ``key`` was deleted, or (``edited``: the edit's date) edited to
    ask signoff nothing: never answered, unless the text waiting comes from a later edit
    (durable on return). ``before_it_came``: signoff would take the message, so one not
    stored yet is still on its way (Slack keeps no order, and retries a failed delivery
    later): recorded withdrawn, so that it is refused when it comes."""
    outcome = _withdraw(tdir, key, edited)
    if outcome != "unknown" or not before_it_came:
        return outcome
    inbox = tdir.inbox
    # A delivery of it takes the same turn: it links first (withdrawn below, as it waits),
    # or finds the withdrawn line and refuses itself.
    with inbox.turn(key):
        if not inbox.waiting(key) and not inbox.taken_log.has(key):
            make_dirs(inbox.root)  # a thread with no message yet: the line alone
            inbox.taken_log.add(key, withdrawn=True, edited=edited)
            return "withdrawn_early"
    return _withdraw(tdir, key, edited)


def _withdraw(tdir: ThreadDir, key: str, edited: str | None) -> EditOutcome:
    inbox = tdir.inbox
    with _locked(inbox, key) as current:
        if current is None:
            with inbox.turn(key):
                if inbox.taken_log.withdrawn_by_edit(key) is not None:
                    # Withdrawn by an edit: a deletion makes it final, a newer edit dates it.
                    inbox.taken_log.add(key, withdrawn=True, edited=edited)
            return _gone(inbox, key)
        if edited is not None and _older(edited, current.edited_ts):
            return "older"  # a late edit: a newer one asks signoff again
        if _recorded(tdir, key):
            return "read_already"
        inbox.taken_log.add(key, withdrawn=True, edited=edited)  # synced before it leaves new/
        (inbox.new / key).unlink(missing_ok=True)
        return "withdrawn"


@contextlib.asynccontextmanager
async def held_message(inbox: Inbox, key: str) -> AsyncIterator[InboxMessage | None]:
    """The worker's hold on a waiting message while it records it: what it says now, or
    None once it no longer waits (withdrawn by its author). No edit lands until the hold
    ends, by which time the message is recorded and taken."""
    try:
        # As a rule no edit holds it: taken here, without a disk thread's hop (a few
        # small reads, as the worker's look at the inbox did just before).
        got = _lock_current(inbox, key, 0.0)
    except LockBusyError:
        got = await _lock_off_loop(inbox, key)
    with _holding(got) as current:
        yield current


async def _lock_off_loop(inbox: Inbox, key: str) -> tuple[int, InboxMessage] | None:
    locking = asyncio.ensure_future(off_loop(_lock_current, inbox, key, None))
    try:
        return await asyncio.shield(locking)
    except asyncio.CancelledError:
        locking.add_done_callback(_let_go)  # the lock may come after the cancel
        raise


def _let_go(locking: asyncio.Future[tuple[int, InboxMessage] | None]) -> None:
    if not locking.cancelled() and locking.exception() is None:
        got = locking.result()
        if got is not None:
            os.close(got[0])
