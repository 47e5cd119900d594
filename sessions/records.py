"""The on-disk records of a session, as frozen pydantic models with a schema version."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

from .ids import check_session_id, check_slack_id, check_slack_ts

__all__ = [
    "TERMINAL_STATES",
    "Record",
    "SessionRecord",
    "SessionState",
    "ThreadKey",
    "Transition",
]


class Record(BaseModel):
    """Base of every persisted record: frozen, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class SessionState(StrEnum):
    CREATED = "created"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    AWAITING_APPROVAL = "awaiting_approval"
    CANCELLED = "cancelled"
    # Not terminal: a stop (the drain ran out) cut its turn, and nothing runs it until the
    # next start's recovery continues it in a child and closes it as crashed.
    INTERRUPTED = "interrupted"


TERMINAL_STATES = frozenset(
    {
        SessionState.COMPLETED,
        SessionState.FAILED,
        SessionState.AWAITING_APPROVAL,
        SessionState.CANCELLED,
    }
)


class ThreadKey(Record):
    """A Slack thread: one thread, one lineage of sessions."""

    team: str
    channel: str
    thread_ts: str

    @field_validator("team", "channel")
    @classmethod
    def _slack_id(cls, value: str) -> str:
        return check_slack_id(value)

    @field_validator("thread_ts")
    @classmethod
    def _ts(cls, value: str) -> str:
        return check_slack_ts(value)

    def label(self) -> str:
        return f"{self.team}/{self.channel}/{self.thread_ts}"


class Transition(Record):
    state: SessionState
    at: str
    reason: str = ""


class SessionRecord(Record):
    schema_version: Literal[1] = 1
    id: str
    parent_id: str | None
    thread: ThreadKey
    state: SessionState
    created_at: str
    transitions: tuple[Transition, ...]
    # Why this session exists: a message, a decision, a crash recovery.
    cause: str = "message"

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return check_session_id(value)

    @field_validator("parent_id")
    @classmethod
    def _parent(cls, value: str | None) -> str | None:
        return None if value is None else check_session_id(value)

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    @property
    def reason(self) -> str:
        return self.transitions[-1].reason if self.transitions else ""

    @property
    def shown_reason(self) -> str:
        """The reason a view shows: why it ended, or why a drain left it ``interrupted``;
        "" while it runs (its transitions' reasons say how it started)."""
        if self.terminal or self.state is SessionState.INTERRUPTED:
            return self.reason
        return ""
