"""Session directories: creation, loading, and the forward-only state machine.

A session is created complete or not at all: it is assembled in a hidden directory and
renamed into place (built in ``sessions/.staging/``, on the same filesystem as the shards,
so a crash's leftovers are found by listing one directory). State
changes are a compare-and-set under a flock on the session directory, so a
stale writer in another process fails with StaleStateError instead of moving the session
backwards or overwriting a newer state.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
from pathlib import Path

from pydantic import ValidationError

from .atomic import (
    complete_lines,
    fsync_dir,
    make_dirs,
    read_file,
    replace_atomically,
    write_new,
)
from .clock import Clock, SystemClock, utc_iso
from .errors import (
    AlreadyExistsError,
    CorruptRecordError,
    IllegalTransitionError,
    NotFoundError,
    StaleStateError,
)
from .home import Home
from .ids import new_session_id
from .layout import session_ids
from .locks import dir_lock
from .manifest import seal
from .record_problem import record_problem
from .records import SessionRecord, SessionState, ThreadKey, Transition

__all__ = ["ALLOWED", "SessionStore", "read_record"]

S = SessionState
ALLOWED: dict[SessionState, frozenset[SessionState]] = {
    S.CREATED: frozenset({S.RUNNING, S.FAILED, S.CANCELLED}),
    S.RUNNING: frozenset({S.COMPLETED, S.FAILED, S.AWAITING_APPROVAL, S.CANCELLED, S.INTERRUPTED}),
    S.INTERRUPTED: frozenset({S.FAILED}),  # recovery closes it once a child continues it
    S.COMPLETED: frozenset(),
    S.FAILED: frozenset(),
    S.AWAITING_APPROVAL: frozenset(),
    S.CANCELLED: frozenset(),
}


# How long a state change waits for its session's directory lock. Its holders take it for
# a state change and its seal, or a verify of the session (milliseconds, seconds for a
# session of large files): long enough that none of those is given up on, yet a bound,
# as a process stopped while it holds the lock (Ctrl-Z) would hold it for ever.
STATE_LOCK_WAIT = 30.0


class SessionStore:
    def __init__(
        self, home: Home, *, clock: Clock | None = None, lock_wait: float = STATE_LOCK_WAIT
    ) -> None:
        self.home = home
        self.clock = clock or SystemClock()
        self.lock_wait = lock_wait

    def create(
        self,
        *,
        thread: ThreadKey,
        parent_id: str | None,
        cause: str,
        session_md: str,
        transcript: bytes = b"",
        session_id: str | None = None,
        running: bool = False,
    ) -> SessionRecord:
        """Create a session directory with its first records, atomically.

        ``session_id`` (the worker passes the thread's next id) makes creation create-only:
        AlreadyExistsError when that session exists. ``running`` creates it started (both
        transitions recorded), saving the rewrite of ``session.json`` a start would be.
        """
        self.home.ensure()
        session_id = session_id or new_session_id()
        final = self.home.session_dir(session_id)
        if final.exists():
            raise AlreadyExistsError(f"session {session_id} exists")
        now = utc_iso(self.clock.now())
        transitions: tuple[Transition, ...] = (
            Transition(state=SessionState.CREATED, at=now, reason=cause),
        )
        if running:
            transitions += (Transition(state=SessionState.RUNNING, at=now),)
        record = SessionRecord(
            id=session_id,
            parent_id=parent_id,
            thread=thread,
            state=transitions[-1].state,
            created_at=now,
            transitions=transitions,
            cause=cause,
        )
        # Random: a crash may leave a half-built staging directory for the same id.
        shard = self.home.session_shard(session_id)
        try:
            shard.mkdir()
            fsync_dir(self.home.sessions_dir)  # the new shard survives a crash
        except FileExistsError:
            pass
        staging = self.home.session_staging_dir / f"{session_id}-{secrets.token_hex(4)}"
        try:
            staging.mkdir()
        except FileNotFoundError:  # the first session of this home (or of this version)
            make_dirs(staging.parent)
            staging.mkdir()
        try:
            # Nobody reads the staging directory: its files need no atomic link each, one
            # fsync of the directory before the rename makes them all durable.
            write_new(staging / "SESSION.md", session_md.encode())
            write_new(staging / "transcript.jsonl", complete_lines(transcript))
            write_new(staging / "session.json", record.model_dump_json(indent=2).encode())
            fsync_dir(staging)
            os.rename(staging, final)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
                raise AlreadyExistsError(f"session {session_id} exists") from exc
            raise
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        fsync_dir(shard)
        return record

    def load(self, session_id: str) -> SessionRecord:
        path = self.home.session_dir(session_id) / "session.json"
        return read_record(path, session_id)

    def exists(self, session_id: str) -> bool:
        return (self.home.session_dir(session_id) / "session.json").exists()

    def transition(
        self,
        session_id: str,
        *,
        expected: SessionState,
        new: SessionState,
        reason: str = "",
        after_crash: bool = False,
    ) -> SessionRecord:
        """Move ``expected`` → ``new`` or raise; seals the session when ``new`` is terminal
        (``after_crash``: it was written by a process that died, see ``seal``)."""
        if new not in ALLOWED[expected]:
            raise IllegalTransitionError(f"{session_id}: {expected} → {new} is not allowed")
        directory = self.home.session_dir(session_id)
        # Sessions from before kept a state.lock file: the lock is now on the directory.
        with dir_lock(directory, give_up_after=self.lock_wait):  # LockBusyError: not moved
            current = read_record(directory / "session.json", session_id)
            if current.state != expected:
                raise StaleStateError(
                    f"{session_id} is {current.state}, not {expected}; refusing to move it to {new}"
                )
            moved = current.model_copy(
                update={
                    "state": new,
                    "transitions": (
                        *current.transitions,
                        Transition(state=new, at=utc_iso(self.clock.now()), reason=reason),
                    ),
                }
            )
            replace_atomically(directory / "session.json", moved.model_dump_json(indent=2).encode())
            if moved.terminal:
                seal(directory, after_crash=after_crash)
        return moved

    def all_ids(self) -> list[str]:
        return session_ids(self.home)


def read_record(path: str | Path, session_id: str) -> SessionRecord:
    try:
        raw = read_file(path)
    except FileNotFoundError as exc:
        raise NotFoundError(f"no session {session_id}") from exc
    try:
        return SessionRecord.model_validate_json(raw)
    except ValidationError as exc:
        raise CorruptRecordError(f"{path}: {record_problem(exc)}") from exc
