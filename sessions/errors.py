"""Errors raised by the storage layer, and the root of every signoff error.

``SignoffError`` lives here, in the package every other imports, so that each package's
own root derives from it and a caller can catch "anything signoff refused" in one place:

    SignoffError                   anything signoff refuses, with a message for people
    ├── SessionsError              (this package, below)
    ├── approvals.ApprovalsError   policy, capsules, claims
    ├── agent_core.providers.ProviderError   a model provider's failure, classified
    └── bot.ConfigError            a configuration that cannot work (exit 2)

This package's tree::

    SessionsError                  anything this package refuses to do
    ├── InvalidIdError             a session, approval or thread id that is malformed
    │                              (never turned into a path)
    ├── NotFoundError              a well-formed id with nothing on disk
    ├── AlreadyExistsError         a create-only file that exists (tickets, capsules,
    │                              decisions): the first writer won
    ├── StaleStateError            a compare-and-set on session state lost: someone else
    │                              moved the session first
    ├── IllegalTransitionError     a state change the forward-only machine forbids
    ├── CorruptRecordError         a record on disk that does not parse or validate
    ├── IndexInUseError            a rebuild of the index while a process has it open
    ├── IndexDamagedError          an index file that is no index signoff can use (a
    │                              terminal command; ``run`` sets it aside and rebuilds)
    ├── LockBusyError              a lock not free within the time given (its holder
    │                              may be stopped): the waiter gives up, tries later
    └── ReadOnlyHomeError          a home that cannot be written has no index to read

(A sealed session whose files no longer match its manifest is not an exception: ``verify``
returns a report, and resume refuses to run a call from it.)
"""

from __future__ import annotations

__all__ = [
    "AlreadyExistsError",
    "CorruptRecordError",
    "IllegalTransitionError",
    "IndexDamagedError",
    "IndexInUseError",
    "InvalidIdError",
    "LockBusyError",
    "NotFoundError",
    "ReadOnlyHomeError",
    "SessionsError",
    "SignoffError",
    "StaleStateError",
]


class SignoffError(Exception):
    """The root of every error signoff raises on purpose."""


class SessionsError(SignoffError):
    """Base class of every error this package raises."""


class InvalidIdError(SessionsError, ValueError):
    """An identifier failed validation before it could reach the filesystem."""


class NotFoundError(SessionsError, LookupError):
    """A well-formed identifier names nothing on disk."""


class AlreadyExistsError(SessionsError):
    """A create-only file already exists."""


class StaleStateError(SessionsError):
    """The session moved since the caller read it."""


class IllegalTransitionError(SessionsError):
    """The forward-only state machine forbids this transition."""


class CorruptRecordError(SessionsError):
    """A record on disk is unreadable or invalid."""


class IndexInUseError(SessionsError):
    """``reindex`` was asked while another process (a running bot) has the index open."""


class IndexDamagedError(SessionsError):
    """``index.sqlite3`` is no index signoff can use (``index_damage``): random bytes, or
    another program's database. Said by the commands, which leave it as it is."""


class LockBusyError(SessionsError, TimeoutError):
    """A lock was not free within the time given: its holder may be stopped (a terminal's
    command suspended with Ctrl-Z), and a waiter must not wait on it without end."""


class ReadOnlyHomeError(SessionsError):
    """A home that cannot be written (a snapshot, another user's) has no readable index."""
