"""A session's seal as ``signoff verify`` and ``signoff audit`` judge it.

A seal covers a session's directory once it ends (``manifest.seal``). One that is still
open has none yet; one that ended and has none had it removed (after which its files, an
approval's capsule among them, can be changed unseen), or a crash came between its final
state and its seal, which a running bot's sweep or ``signoff recover`` repairs.
"""

from __future__ import annotations

from .busy_wait import busy_wait
from .errors import SessionsError
from .home import Home
from .locks import dir_lock
from .manifest import VerifyReport, verify
from .store import SessionStore

__all__ = ["verify_session"]


def verify_session(home: Home, session_id: str) -> VerifyReport:
    """The session's seal checked; a problem too when it ended with no seal.
    ``LockBusyError`` when its lock stayed held for ``busy_wait()`` seconds (not checked):
    a seal in progress takes far less, and a holder stopped (Ctrl-Z) would keep a verify
    waiting for ever."""
    directory = home.session_dir(session_id)
    report = verify(directory)
    if report.sealed:
        return report
    try:
        record = SessionStore(home).load(session_id)
    except SessionsError as exc:
        return VerifyReport([f"unreadable: {exc}"], sealed=False)
    if not record.terminal:
        return report
    # A session ends in two steps, its final state then its seal, under its directory's
    # lock: one met in between (a bot ending it right now) is being sealed, not tampered
    # with. Once the lock is free, a missing seal is a problem.
    with dir_lock(directory, give_up_after=busy_wait()):
        report = verify(directory)
    if report.sealed:
        return report
    return VerifyReport(
        [
            f"it ended ({record.state.value}) but has no seal: MANIFEST.sha256 was removed, or "
            "a crash came between its end and its seal (a running bot's sweep, or `signoff recover`, "
            "seals such a session)"
        ],
        sealed=False,
    )
