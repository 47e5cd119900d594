"""``signoff verify``: every session's seal, and what the home must still hold.

A seal covers one session's directory, so it cannot notice that directory's absence: a
session removed whole that a child's transcript continues (its first line references it),
or a ``sessions`` that is no longer a directory, would otherwise pass as "verified 0
session(s)". A person running verify after an incident must hear of both.
"""

from __future__ import annotations

from approvals.vote_files import vote_file_problems
from sessions import (
    CorruptRecordError,
    Home,
    LockBusyError,
    NotFoundError,
    SessionFiles,
    check_session_id,
    open_regular,
    session_ids,
    verify_session,
)
from sessions.transcript_reference import first_reference

from .cli_read import existing_home
from .terminal_text import printable

__all__ = ["verify_sessions"]


def _missing_parent(home: Home, session_id: str) -> str | None:
    """What the session's transcript continues that is gone, or None. Only the first line
    is read: the reference is there, and the chain's hashes are the seal's and show's job."""
    path = SessionFiles(home.session_dir(session_id)).transcript_path
    try:
        # Never a FIFO or a device by its name (one waits for ever, one acts when opened).
        with open(open_regular(path), "rb") as handle:
            first = handle.readline()
    except FileNotFoundError:
        return None  # a session with no transcript yet continues nothing
    except OSError as exc:
        return f"its transcript cannot be read ({exc.strerror or exc})"
    try:
        ref = first_reference(path, first if first.endswith(b"\n") else first + b"\n")
    except CorruptRecordError as exc:
        return f"its transcript's first line is damaged ({exc})"
    if ref is None or home.session_dir(ref.session).is_dir():
        return None
    return f"its transcript continues {ref.session}, whose directory is gone"


def _sessions_dir_problem(home: Home) -> str | None:
    """A ``sessions`` that is not a directory (or is gone while threads remain): listing
    it finds no session, which is not "all fine"."""
    where = home.sessions_dir
    if where.is_dir():
        return None
    if where.exists() or where.is_symlink():
        return f"{where} is not a directory: no session in it can be checked"
    if home.threads_dir.is_dir() and any(home.threads_dir.iterdir()):
        return f"{where} is missing, yet {home.threads_dir} holds threads"
    return None  # a home before its first session


def _say(line: str) -> None:
    """A line of the report: it quotes the home's file names and errors, which a tampered
    home makes of escapes; shown as text, never acted on by the terminal."""
    print(printable(line))


def verify_sessions(home: Home, session_id: str | None) -> int:
    """0 when every session checked is intact, 1 when one is not (or is missing)."""
    # A shard it may not list (another user's): said, and the other shards verified.
    unlistable: list[str] = []
    if session_id is None:
        problem = _sessions_dir_problem(existing_home(home))
        if problem is not None:
            _say(f"MISSING: {problem}")
            _say("verified 0 session(s): the sessions themselves are missing")
            return 1
        ids = session_ids(
            home,
            unlistable=lambda shard, exc: unlistable.append(
                f"{shard}: UNREADABLE: {exc.strerror or exc}"
            ),
        )
        for line in unlistable:
            _say(line)
    else:
        sid = check_session_id(session_id)  # a malformed id is the more precise error
        if not existing_home(home).session_dir(sid).is_dir():
            raise NotFoundError(f"no session {sid}")
        ids = [sid]
    bad = len(unlistable)
    for sid in ids:
        try:
            report = verify_session(home, sid)
            missing = _missing_parent(home, sid)
            # Votes come after the seal, which only checks their names' form: what each
            # holds is checked here (a file that names one person and holds another's).
            report.problems += vote_file_problems(home.session_dir(sid))
        except LockBusyError as exc:
            # Its lock held past the bound (a process stopped inside its state change):
            # not checked, which is not "fine"; the other sessions still are.
            _say(f"{sid}: BUSY: {exc}; not checked")
            bad += 1
            continue
        except OSError as exc:
            # Not this reader's to read (another user's session): a problem to report,
            # and the other sessions still checked, as a tampered one would be.
            where = f": {exc.filename}" if exc.filename else ""
            _say(f"{sid}: UNREADABLE: {exc.strerror or exc}{where}")
            bad += 1
            continue
        if report.problems:
            _say(f"{sid}: TAMPERED: " + "; ".join(report.problems))
        if missing is not None:
            _say(f"{sid}: MISSING: {missing}")
        if report.problems or missing is not None:
            bad += 1
        elif session_id:
            _say(f"{sid}: {'ok (sealed)' if report.sealed else 'not sealed yet (still open)'}")
    _say(f"verified {len(ids)} session(s), {bad} with problems")
    return 1 if bad else 0
