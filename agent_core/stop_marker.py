"""A person stopped the agent in a thread: the marker on disk and the in-memory signal.

``threads/<key>/stop.json`` holds the last stop: who, when (our clock) and Slack's
``event_ts`` of it. It is written before the stop is acknowledged, so a crash cannot
lose it, and it is re-read like the kill switch before every model call and tool call of
the thread. A stop applies to the work asked before it: once the thread holds a person's
message newer than the stop, the marker is stale and is cleared (``stops.active_stop``).

``StopSignals`` only wakes a turn that is waiting on the model, so the stop takes effect
at once instead of after the answer; a process that restarts loses nothing without it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from pydantic import ValidationError, field_validator

from approvals import Origin
from sessions import (
    CorruptRecordError,
    Home,
    Record,
    ThreadKey,
    check_slack_id,
    check_slack_ts,
    replace_atomically,
)

__all__ = ["StopRequest", "StopSignals", "clear_stop", "read_stop", "record_stop"]

STOP_FILE = "stop.json"


class StopRequest(Record):
    schema_version: Literal[1] = 1
    thread: ThreadKey
    user: str
    at: str
    # Slack's event_ts of the click: a message with a later ts is new work.
    slack_ts: str
    # The event_ts of the earlier stop whose confirmation the thread got, when this one
    # came while that one still applied: a redelivery of this stop says nothing either.
    told_by: str | None = None
    # Where the stopper is from, as Slack said (``users.info``): a stop withdraws only the
    # requests they may decide, an ``anyone`` rule being their organization's. Team "":
    # Slack could not say (counted as outside). None: a stop not from Slack.
    origin: Origin | None = None

    @field_validator("user")
    @classmethod
    def _user(cls, value: str) -> str:
        return check_slack_id(value)

    @field_validator("slack_ts", "told_by")
    @classmethod
    def _ts(cls, value: str | None) -> str | None:
        return None if value is None else check_slack_ts(value)

    @property
    def reason(self) -> str:
        return f"stopped from Slack by <@{self.user}>"


def record_stop(home: Home, stop: StopRequest) -> None:
    """Durable when this returns (the ack to Slack may follow)."""
    path = home.thread_dir(stop.thread) / STOP_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    # told_by and origin only when set: a version from 2026-12-04 (a rollback the docs allow) refuses
    # a field it does not know, and then every turn of the thread fails reading the marker.
    replace_atomically(path, stop.model_dump_json(exclude_none=True).encode())


def read_stop(home: Home, thread: ThreadKey) -> StopRequest | None:
    path = home.thread_dir(thread) / STOP_FILE
    try:
        return StopRequest.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        return None
    except (ValidationError, ValueError) as exc:
        raise CorruptRecordError(f"{path}: not a stop request") from exc


def clear_stop(home: Home, stop: StopRequest) -> None:
    """Remove the marker if it is still this stop (a newer one stays)."""
    if read_stop(home, stop.thread) == stop:
        with contextlib.suppress(FileNotFoundError):
            (home.thread_dir(stop.thread) / STOP_FILE).unlink()


class StopSignals:
    """Per thread, a future that a turn waiting on the model waits on too."""

    def __init__(self) -> None:
        self._waiting: dict[ThreadKey, asyncio.Future[StopRequest]] = {}

    @contextmanager
    def watching(self, thread: ThreadKey) -> Iterator[asyncio.Future[StopRequest]]:
        """While the block runs, ``fire(stop)`` for ``thread`` resolves the future."""
        future: asyncio.Future[StopRequest] = asyncio.get_running_loop().create_future()
        self._waiting[thread] = future
        try:
            yield future
        finally:
            if self._waiting.get(thread) is future:
                del self._waiting[thread]
            future.cancel()

    def fire(self, stop: StopRequest) -> bool:
        """Wake the turn of ``stop.thread`` if one waits on the model; False if none does."""
        future = self._waiting.get(stop.thread)
        if future is None or future.done():
            return False
        future.set_result(stop)
        return True
