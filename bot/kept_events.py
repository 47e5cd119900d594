"""Which events this process has quarantined lately, so Slack sending one again is not kept
twice: a redelivery (its ack was lost, or late) has the same ``event_id``, and a mention's
``message`` twin the same team, channel and ``ts``. A second record would hold nothing
new, only one more thing for a person to review. In memory only: Slack's retries come
within minutes, and after a restart a second record (and its sender told a second time) is
the worst that can happen.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict

from pydantic import JsonValue

__all__ = ["KeptEvents"]


def _keys(payload: JsonValue) -> list[str]:
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
        # Held while a record is written: a twin handled meanwhile must wait to find it.
        self.writing = asyncio.Lock()

    def record_of(self, payload: JsonValue) -> str | None:
        """The id of the record that already keeps this event, if any."""
        with self._lock:
            for key in _keys(payload):
                if (record := self._records.get(key)) is not None:
                    return record
        return None

    def add(self, payload: JsonValue, record: str) -> None:
        with self._lock:
            for key in _keys(payload):
                self._records[key] = record
                self._records.move_to_end(key)
            while len(self._records) > self._size:
                self._records.popitem(last=False)
