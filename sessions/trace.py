"""Trace events: everything that happened in a session, in order.

Each line of ``trace.jsonl`` (``logs/trace.jsonl`` in sessions from before) is a
``TraceEvent``. Its ``data`` is the event's own detail; when that detail is larger than
``INLINE_LIMIT`` it is stored beside the trace in ``payloads/`` and the event keeps a
reference with its SHA-256 instead. Lines and payloads are not synced one by one: the seal
makes them durable, and a power cut before it may tear a line (skipped) or lose a payload
(its event is read without data).

The kinds are a closed list each version validates every line against: a line of a kind
it does not know makes its ``read_trace`` refuse the whole trace. So a version a rollback
may return to (docs/operations.md) must know every kind written; new detail goes into the
``data`` of a kind that fits (a retried model call: ``model_error`` with a ``retry``
object, ``agent_core/retry_trace.py``) before a new kind is added.
"""

from __future__ import annotations

from typing import Any, Literal

from .records import Record

__all__ = ["INLINE_LIMIT", "TraceEvent", "TraceKind"]

INLINE_LIMIT = 4096

TraceKind = Literal[
    "session_started",
    "session_ended",
    "message",
    "model_turn",
    "model_error",
    "tool_started",
    "tool_finished",
    "tool_rejected",
    "approval_requested",
    "decision_applied",
    "approved_call_refused",
    "approved_call_deferred",
    "reply_queued",
    "reply_failed",
]


class TraceEvent(Record):
    schema_version: Literal[1] = 1
    seq: int
    at: str
    session: str
    kind: TraceKind
    data: dict[str, Any] | None = None
    payload_ref: str | None = None
    payload_sha256: str | None = None
    payload_bytes: int | None = None

    @property
    def detail(self) -> dict[str, Any]:
        """The event's data (resolved from its payload file when read with payloads)."""
        return self.data or {}
