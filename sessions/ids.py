"""Identifiers: random, validated, and the only way a name from outside reaches a path."""

from __future__ import annotations

import hashlib
import re
import secrets

from .errors import InvalidIdError

__all__ = [
    "check_approval_id",
    "check_quarantine_id",
    "check_session_id",
    "check_slack_id",
    "check_slack_ts",
    "child_session_id",
    "first_session_id",
    "is_slack_ts",
    "new_approval_id",
    "new_session_id",
    "ts_after",
]

_SESSION = re.compile(r"sess_[0-9a-f]{12}")
_APPROVAL = re.compile(r"appr_[0-9a-f]{16}")
_QUARANTINE = re.compile(r"quar_[0-9a-f]{16}")
_SLACK_ID = re.compile(r"[A-Z0-9][A-Z0-9_]{1,39}")
_SLACK_TS = re.compile(r"[0-9]{1,12}\.[0-9]{1,9}")


def new_session_id() -> str:
    return f"sess_{secrets.token_hex(6)}"


def child_session_id(parent_id: str) -> str:
    """The one id a child of ``parent_id`` can have.

    A thread's lineage is a line: each session has at most one child. Deriving the child's
    id from its parent makes that a fact of the filesystem (a second child cannot be
    created), and lets a worker find a child a crash left before HEAD pointed to it.
    """
    digest = hashlib.sha256(f"child:{check_session_id(parent_id)}".encode()).hexdigest()
    return f"sess_{digest[:12]}"


def first_session_id(team: str, channel: str, thread_ts: str) -> str:
    """The id of a thread's first session (see ``child_session_id``)."""
    digest = hashlib.sha256(f"first:{team}/{channel}/{thread_ts}".encode()).hexdigest()
    return f"sess_{digest[:12]}"


def new_approval_id() -> str:
    # 64 random bits: ids are capabilities a button carries, so they must not collide or be guessed.
    return f"appr_{secrets.token_hex(8)}"


def _check(pattern: re.Pattern[str], value: object, what: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        shown = repr(value)[:60]
        raise InvalidIdError(f"not a valid {what}: {shown}")
    return value


def check_session_id(value: object) -> str:
    return _check(_SESSION, value, "session id (expected sess_ and 12 hex digits)")


def check_approval_id(value: object) -> str:
    return _check(_APPROVAL, value, "approval id (expected appr_ and 16 hex digits)")


def check_quarantine_id(value: object) -> str:
    return _check(_QUARANTINE, value, "quarantine id (expected quar_ and 16 hex digits)")


def check_slack_id(value: object) -> str:
    return _check(_SLACK_ID, value, "Slack id (team, channel or user)")


def check_slack_ts(value: object) -> str:
    return _check(_SLACK_TS, value, "Slack timestamp")


def is_slack_ts(value: str) -> bool:
    return _SLACK_TS.fullmatch(value) is not None


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, fraction = ts.partition(".")
    return int(seconds), int(fraction.ljust(6, "0")[:6] or 0)


def ts_after(ts: str, than: str) -> bool:
    """Is Slack timestamp ``ts`` later than ``than`` (exactly, not as floats)?"""
    return _ts_key(ts) > _ts_key(than)
