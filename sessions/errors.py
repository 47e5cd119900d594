"""Errors raised by the storage layer.

The hierarchy, in one place::

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
    └── TamperedError              a sealed session whose files no longer match their manifest
"""

from __future__ import annotations

__all__ = [
    "AlreadyExistsError",
    "CorruptRecordError",
    "IllegalTransitionError",
    "InvalidIdError",
    "NotFoundError",
    "SessionsError",
    "StaleStateError",
    "TamperedError",
]


class SessionsError(Exception):
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


class TamperedError(SessionsError):
    """Files of a sealed session differ from its manifest."""
