"""Quarantining an event signoff cannot read, once: a redelivery (its ack was lost, or
late) has the same ``event_id``, and a mention's ``message`` twin the same team, channel
and ``ts``. A second record would hold nothing new, only one more thing for a person to
review, and its sender would be told a second time. A bounded map in memory answers at
once; the quarantine's marks (``Quarantine.kept_as``) answer when the copy reaches the
next process (the bot restarted before Slack heard its ack) or this one's map forgot it.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict

from pydantic import JsonValue

from sessions import Quarantine

from .envelopes import Fate, Outcome

__all__ = ["EventKeeper", "KeptEvents", "event_keys"]


def event_keys(payload: JsonValue) -> list[str]:
    """What names this event's message: its event id, and its place (team, channel, ts)."""
    if not isinstance(payload, dict):
        return []
    keys = []
    if isinstance(event_id := payload.get("event_id"), str) and event_id:
        keys.append(f"id {event_id}")
    event, team = payload.get("event"), payload.get("team_id")
    if isinstance(event, dict) and event.get("type") in ("app_mention", "message"):
        place = (team, event.get("channel"), event.get("ts"))
        if all(isinstance(part, str) and part for part in place):
            keys.append("at {} {} {}".format(*place))
    return keys


class KeptEvents:
    """A bounded map from an event's keys to the quarantine record that keeps it."""

    def __init__(self, size: int = 1_000) -> None:
        self._records: OrderedDict[str, str] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()  # the socket thread's loop and the disk threads

    def record_of(self, keys: list[str]) -> str | None:
        """The id of the record that already keeps this event, if any."""
        with self._lock:
            for key in keys:
                if (record := self._records.get(key)) is not None:
                    return record
        return None

    def add(self, keys: list[str], record: str) -> None:
        with self._lock:
            for key in keys:
                self._records[key] = record
                self._records.move_to_end(key)
            while len(self._records) > self._size:
                self._records.popitem(last=False)


class EventKeeper:
    """Keeps an ``events_api`` payload in the quarantine unless it is kept already."""

    def __init__(self, quarantine: Quarantine) -> None:
        self.quarantine = quarantine
        self._kept = KeptEvents()
        # Held while a record is written: a twin handled meanwhile must wait to find it.
        self._writing = asyncio.Lock()

    async def keep(self, payload: JsonValue, reason: str, *, ref: str = "") -> Outcome:
        async with self._writing:  # a twin comes at once, in a task of its own
            return await self._keep(payload, reason, ref=ref)

    async def _keep(self, payload: JsonValue, reason: str, *, ref: str) -> Outcome:
        keys = event_keys(payload)
        try:
            kept = self._kept.record_of(keys) or await asyncio.to_thread(
                self.quarantine.kept_as, keys
            )
            if kept is not None:
                self._kept.add(keys, kept)
                why = f"already quarantined as {kept}"
                return Outcome(fate=Fate.DUPLICATE, reason=why, ref=ref)
            event_id = payload.get("event_id") if isinstance(payload, dict) else None
            record = await asyncio.to_thread(
                self.quarantine.put,
                source="events_api",
                reason=reason,
                payload=payload,
                event_id=event_id if isinstance(event_id, str) else "",
                keys=keys,
            )
        except OSError as exc:  # the disk, not the payload: Slack's redelivery is the retry
            why = f"{reason}; could not quarantine: {exc}"
            return Outcome(fate=Fate.DEFERRED, reason=why, ref=ref)
        if record is None:
            why = f"{reason} (quarantine full for today)"
            return Outcome(fate=Fate.DROPPED, reason=why, ref=ref, unkept=True)
        self._kept.add(keys, record.id)
        return Outcome(
            fate=Fate.QUARANTINED, reason=f"{reason} (as {record.id})", ref=ref, kept=record.id
        )
