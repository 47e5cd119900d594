"""Seeded chaos for crash and redelivery tests (the behaviour is in chaos.py).

Turn on duplicate deliveries and random socket drops, read what they did, and switch them
off; everything here is also on the HTTP control API under ``/_control/chaos``. And send
one event again as Slack does after an ack it never got (``redeliver``), at the moment a
test chooses rather than on the retry schedule."""

from __future__ import annotations

from localslack.chaos import ChaosEvent
from localslack.deliveries import Delivery
from localslack.errors import ControlError
from localslack.runtime import Runtime

__all__ = ["ChaosControls"]


class ChaosControls:
    """Mixed into LocalSlack (via Controls)."""

    _rt: Runtime

    def duplicate_events(self, *, seed: int, max_copies: int = 3) -> None:
        """Every new events_api envelope goes out k times, k drawn from 1..max_copies with
        `random.Random(seed)`, besides redeliveries of unacked ones."""
        self._rt.chaos.duplicate_events(seed=seed, max_copies=max_copies)

    def stop_duplicate_events(self) -> None:
        self._rt.chaos.stop_duplicates()

    def drop_sockets_randomly(
        self,
        *,
        seed: int,
        probability: float = 0.0,
        interval: tuple[float, float] | None = None,
    ) -> None:
        """With `probability`, drop the socket an envelope is sent on (just before or just
        after sending it); with `interval` (low, high) seconds, also drop every socket at
        random moments. Both draw from `random.Random(seed)`; call again to change them."""
        self._rt.chaos.drop_sockets(seed=seed, probability=probability, interval=interval)

    def stop_dropping_sockets(self) -> None:
        self._rt.chaos.stop_drops()

    def chaos_events(self, *, kind: str | None = None) -> list[ChaosEvent]:
        """Every duplicate and drop so far (kind "duplicate" or "drop"), oldest first."""
        return [e for e in self._rt.chaos.events if kind in (None, e.kind)]

    async def redeliver(self, *, envelope_id: str) -> Delivery:
        """Deliver the events_api envelope `envelope_id` again as Slack does when its ack
        went missing: the same payload and event_id in a new envelope, `retry_attempt` one
        more than its own and `retry_reason` "timeout", whether it was acked or not."""
        original = self._rt.hub.log.get(envelope_id)
        if original is None or original.type != "events_api":
            raise ControlError(
                "no_such_envelope", f"no events_api envelope {envelope_id}", status=404
            )
        retry = await self._rt.hub.deliver(
            type=original.type,
            payload=original.payload,
            accepts_response_payload=original.accepts_response_payload,
            event_id=original.event_id,
            retry_attempt=original.retry_attempt + 1,
            raw=original.raw,
        )
        original.redelivered_as = retry.envelope_id
        return retry
