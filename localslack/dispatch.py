"""Envelope delivery: pick a live socket (or queue), time the ack, redeliver or give up; and,
when a chaos test asks (chaos.py), send new events more than once and drop sockets."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from localslack.background import Background
from localslack.chaos import Chaos
from localslack.config import WorkspaceConfig
from localslack.deliveries import Delivery, DeliveryLog
from localslack.ids import Clock, IdSource
from localslack.records import JSON

__all__ = ["AckListener", "Dispatcher", "Outlet"]

log = logging.getLogger(__name__)

AckListener = Callable[[Delivery], Awaitable[None]]


class Outlet(Protocol):
    """A connected socket as the dispatcher sees it."""

    @property
    def id(self) -> str: ...


class Dispatcher:
    def __init__(
        self,
        *,
        config: WorkspaceConfig,
        ids: IdSource,
        clock: Clock,
        rng: random.Random,
        background: Background,
        live: Callable[[], Sequence[Outlet]],
        send: Callable[[Outlet, JSON], Awaitable[bool]],
        chaos: Chaos,
    ) -> None:
        self._config = config
        self._timing = config.timing
        self._ids = ids
        self._clock = clock
        self._rng = rng
        self._background = background
        self._live = live
        self._send = send
        self._chaos = chaos
        self._queue: deque[Delivery] = deque()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._round_robin = 0
        self.log = DeliveryLog()
        self.ack_listeners: list[AckListener] = []

    async def deliver(
        self,
        *,
        type: str,
        payload: Any,
        accepts_response_payload: bool,
        event_id: str | None = None,
        retry_attempt: int = 0,
        raw: bool = False,
    ) -> Delivery:
        delivery = self._new(type, payload, accepts_response_payload, event_id, retry_attempt, raw)
        await self._dispatch(delivery)
        copies = self._chaos.copies() if type == "events_api" and not retry_attempt else 1
        extra = [
            self._new(type, payload, accepts_response_payload, event_id, 0, raw)
            for _ in range(copies - 1)
        ]
        for duplicate in extra:
            duplicate.duplicate_of = delivery.envelope_id
            await self._dispatch(duplicate)
        if extra:
            ids = [delivery.envelope_id, *(d.envelope_id for d in extra)]
            self._chaos.duplicated(event_id=event_id, envelope_ids=ids)
        return delivery

    def _new(
        self,
        type: str,
        payload: JSON,
        accepts_response_payload: bool,
        event_id: str | None,
        retry_attempt: int,
        raw: bool = False,
    ) -> Delivery:
        delivery = Delivery(
            envelope_id=self._ids.envelope_id(),
            type=type,
            payload=payload,
            accepts_response_payload=accepts_response_payload,
            created_at=self._clock(),
            event_id=event_id,
            retry_attempt=retry_attempt,
            retry_reason="timeout" if retry_attempt else "",
            raw=raw,
        )
        self.log.add(delivery)
        return delivery

    def _pick(self, live: Sequence[Outlet]) -> Outlet:
        if self._config.delivery == "round_robin":
            self._round_robin += 1
            return live[self._round_robin % len(live)]
        return self._rng.choice(live)

    async def _dispatch(self, delivery: Delivery) -> None:
        drop_at = self._chaos.drop_point()
        while live := self._live():
            sock = self._pick(live)
            if drop_at == "before_send":
                drop_at = None
                self._drop(sock.id, "before_send", delivery)
                continue
            if await self._send(sock, delivery.envelope()):
                delivery.sent_at = self._clock()
                delivery.socket_id = sock.id
                self._arm_timer(delivery)
                self.log.changed(delivery)
                if drop_at == "after_send":
                    self._drop(sock.id, "after_send", delivery)
                return
        # Nobody is listening: Slack holds the envelope until an app connection appears.
        self._queue.append(delivery)

    def _drop(self, socket_id: str, trigger: str, delivery: Delivery) -> None:
        ids = self._chaos.drop(socket_id)
        self._chaos.dropped(trigger=trigger, socket_ids=ids, envelope_id=delivery.envelope_id)

    async def flush(self) -> None:
        while self._queue and self._live():
            await self._dispatch(self._queue.popleft())

    def _arm_timer(self, delivery: Delivery) -> None:
        loop = asyncio.get_running_loop()
        self._timers[delivery.envelope_id] = loop.call_later(
            self._timing.ack_timeout, self._on_timeout, delivery
        )

    def _on_timeout(self, delivery: Delivery) -> None:
        self._timers.pop(delivery.envelope_id, None)
        if delivery.acked:
            return
        delivery.timed_out = True
        if delivery.type == "events_api":
            if delivery.retry_attempt < self._timing.max_event_retries:
                self._background.spawn(self._redeliver(delivery))
        else:
            # Interactions and commands are never retried: the user just sees an error.
            delivery.user_saw_error = True
        self.log.changed(delivery)

    async def _redeliver(self, original: Delivery) -> None:
        delays = self._timing.retry_delays
        attempt = original.retry_attempt
        if attempt < len(delays) and delays[attempt] > 0:
            await asyncio.sleep(delays[attempt])
        if original.event_id and any(d.acked for d in self.log.for_event(original.event_id)):
            return
        retry = await self.deliver(
            type=original.type,
            payload=original.payload,
            accepts_response_payload=original.accepts_response_payload,
            event_id=original.event_id,
            retry_attempt=attempt + 1,
            raw=original.raw,
        )
        original.redelivered_as = retry.envelope_id

    def on_frame(self, raw: str, *, socket_id: str | None = None) -> None:
        """A text frame from the app: acks are matched by envelope_id, on any socket."""
        try:
            frame = json.loads(raw)
        except ValueError:
            log.warning("localslack: non-JSON frame from app: %r", raw[:200])
            return
        envelope_id = frame.get("envelope_id") if isinstance(frame, dict) else None
        delivery = self.log.get(envelope_id) if isinstance(envelope_id, str) else None
        if delivery is None or delivery.acked:
            return
        timer = self._timers.pop(delivery.envelope_id, None)
        if timer is not None:
            timer.cancel()
        payload = frame.get("payload")
        delivery.acked = True
        delivery.acked_on = socket_id
        delivery.acked_at = self._clock()
        delivery.ack_payload = payload if isinstance(payload, dict) else None
        # Slack has already shown the user an error by then and ignores the late response.
        delivery.late_ack = delivery.timed_out
        self.log.changed(delivery)
        self._background.spawn(self._settle(delivery))

    async def _settle(self, delivery: Delivery) -> None:
        try:
            if not delivery.late_ack:
                for listener in self.ack_listeners:
                    await listener(delivery)
        finally:
            delivery.settled = True
            self.log.changed(delivery)

    def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self.log.cancel_all()
