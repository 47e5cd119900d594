"""Socket Mode envelopes and their fate: sent where, acked with what, retried or timed out."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from localslack.records import JSON

__all__ = ["Delivery", "DeliveryLog", "DeliveryPredicate"]

DeliveryPredicate = Callable[["Delivery"], bool]


@dataclass
class Delivery:
    envelope_id: str
    type: str
    # An object for everything the workspace generates; a raw envelope (Controls.send_envelope)
    # may carry any JSON value, as a misbehaving peer could.
    payload: Any
    accepts_response_payload: bool
    created_at: float
    event_id: str | None = None
    retry_attempt: int = 0
    retry_reason: str = ""
    sent_at: float | None = None
    socket_id: str | None = None
    acked: bool = False
    # The socket the ack came on (Slack takes one on any of the app's links).
    acked_on: str | None = None
    ack_payload: JSON | None = None
    acked_at: float | None = None
    late_ack: bool = False
    # True once the ack's side effects (command responses, modal updates) have been applied.
    settled: bool = False
    timed_out: bool = False
    user_saw_error: bool = False
    redelivered_as: str | None = None
    # Set on the extra copies a chaos test asked for (see chaos.py): the first envelope's id.
    duplicate_of: str | None = None
    # Sent as given through Controls.send_envelope: no workspace state stands behind it.
    raw: bool = False
    extra: JSON = field(default_factory=dict)

    def envelope(self) -> JSON:
        frame: JSON = {
            "envelope_id": self.envelope_id,
            "type": self.type,
            "payload": self.payload,
            "accepts_response_payload": self.accepts_response_payload,
        }
        if self.type == "events_api":
            frame["retry_attempt"] = self.retry_attempt
            frame["retry_reason"] = self.retry_reason
        return frame

    @property
    def status(self) -> str:
        if self.acked:
            return "acked_late" if self.late_ack else "acked"
        if self.timed_out:
            return "timed_out"
        return "sent" if self.sent_at is not None else "queued"

    @property
    def kind(self) -> str:
        """What is inside: the event type, the interaction type, or the slash command."""
        payload = self.payload if isinstance(self.payload, dict) else {}
        if self.type == "events_api":
            event = payload.get("event")
            return str(event.get("type", "")) if isinstance(event, dict) else ""
        if self.type == "slash_commands":
            return str(payload.get("command", ""))
        return str(payload.get("type", ""))

    def to_dict(self, *, with_payload: bool = False) -> JSON:
        summary: JSON = {
            "envelope_id": self.envelope_id,
            "type": self.type,
            "kind": self.kind,
            "event_id": self.event_id,
            "retry_attempt": self.retry_attempt,
            "retry_reason": self.retry_reason,
            "status": self.status,
            "socket_id": self.socket_id,
            "acked": self.acked,
            "acked_on": self.acked_on,
            "ack_payload": self.ack_payload,
            "late_ack": self.late_ack,
            "settled": self.settled,
            "timed_out": self.timed_out,
            "user_saw_error": self.user_saw_error,
            "redelivered_as": self.redelivered_as,
            "duplicate_of": self.duplicate_of,
            "raw": self.raw,
            "created_at": self.created_at,
            "sent_at": self.sent_at,
            "acked_at": self.acked_at,
        }
        if with_payload:
            summary["payload"] = copy.deepcopy(self.payload)
        return summary


class DeliveryLog:
    def __init__(self) -> None:
        self.items: list[Delivery] = []
        self._by_id: dict[str, Delivery] = {}
        self._waiters: list[tuple[DeliveryPredicate, asyncio.Future[Delivery]]] = []

    def add(self, delivery: Delivery) -> None:
        self.items.append(delivery)
        self._by_id[delivery.envelope_id] = delivery
        self.changed(delivery)

    def get(self, envelope_id: str) -> Delivery | None:
        return self._by_id.get(envelope_id)

    def for_event(self, event_id: str) -> list[Delivery]:
        return [d for d in self.items if d.event_id == event_id]

    def changed(self, delivery: Delivery) -> None:
        pending = []
        for predicate, future in self._waiters:
            if future.done():
                continue
            try:
                matched = predicate(delivery)
            except Exception as exc:
                # A broken predicate is the waiting test's problem, not the dispatcher's.
                future.set_exception(exc)
                continue
            if matched:
                future.set_result(delivery)
            else:
                pending.append((predicate, future))
        self._waiters = pending

    async def wait(self, predicate: DeliveryPredicate) -> Delivery:
        """Callers bound the wait with asyncio.timeout()."""
        for delivery in self.items:
            if predicate(delivery):
                return delivery
        future: asyncio.Future[Delivery] = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, future))
        try:
            return await future
        finally:
            if not future.done():
                future.cancel()

    def cancel_all(self) -> None:
        for _, future in self._waiters:
            future.cancel()
        self._waiters.clear()
