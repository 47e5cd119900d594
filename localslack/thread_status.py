"""The status line an AI app shows under a thread (`assistant.threads.setStatus`).

Slack shows it as "<App name> <status>" (e.g. "signoff is thinking…"), optionally rotating
through ``loading_messages``. It goes away when the app replies in the thread, when the app
sets an empty status, or two minutes after it was set without a reply. Every change is kept
as a :class:`StatusChange` so tests can assert the transitions, including the ones nobody
asked for (a reply or the timeout clearing it). Timeouts are computed from the injected clock
when the status is read, so they need no timers and follow a fake clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from localslack.ids import Clock
from localslack.records import JSON
from localslack.watch import MessageWatch

__all__ = ["STATUS_TTL", "StatusChange", "ThreadStatus", "ThreadStatuses"]

STATUS_TTL = 120.0

Cause = Literal["set", "cleared", "reply", "timeout"]


@dataclass(frozen=True)
class ThreadStatus:
    channel: str
    thread_ts: str
    status: str
    loading_messages: tuple[str, ...]
    set_at: float

    @property
    def expires_at(self) -> float:
        return self.set_at + STATUS_TTL

    def to_dict(self, *, app_name: str, now: float) -> JSON:
        return {
            "channel": self.channel,
            "thread_ts": self.thread_ts,
            "status": self.status,
            "loading_messages": list(self.loading_messages),
            "set_at": self.set_at,
            "expires_at": self.expires_at,
            "expires_in": max(0.0, self.expires_at - now),
            "shown_as": f"{app_name} {self.status}",
        }


@dataclass(frozen=True)
class StatusChange:
    """`status` is what the thread shows afterwards ("" once cleared)."""

    channel: str
    thread_ts: str
    status: str
    cause: Cause
    at: float
    loading_messages: tuple[str, ...] = field(default=())

    def to_dict(self) -> JSON:
        return {
            "kind": "thread_status",
            "channel": self.channel,
            "thread_ts": self.thread_ts,
            "status": self.status,
            "cause": self.cause,
            "at": self.at,
            "loading_messages": list(self.loading_messages),
        }


class ThreadStatuses:
    def __init__(self, *, clock: Clock, watch: MessageWatch) -> None:
        self._clock = clock
        self._watch = watch
        self._current: dict[tuple[str, str], ThreadStatus] = {}
        self.history: list[StatusChange] = []

    def _record(self, change: StatusChange) -> None:
        self.history.append(change)
        self._watch.publish(change.to_dict())

    def _expire(self, key: tuple[str, str]) -> None:
        current = self._current.get(key)
        if current is not None and self._clock() >= current.expires_at:
            del self._current[key]
            self._record(StatusChange(key[0], key[1], "", cause="timeout", at=current.expires_at))

    def set(
        self, *, channel: str, thread_ts: str, status: str, loading_messages: tuple[str, ...]
    ) -> None:
        key = (channel, thread_ts)
        self._expire(key)
        now = self._clock()
        if status:
            self._current[key] = ThreadStatus(channel, thread_ts, status, loading_messages, now)
            self._record(StatusChange(channel, thread_ts, status, "set", now, loading_messages))
        elif self._current.pop(key, None) is not None:
            self._record(StatusChange(channel, thread_ts, "", "cleared", now))

    def replied(self, *, channel: str, thread_ts: str) -> None:
        """The app posted in the thread: Slack clears the status by itself."""
        key = (channel, thread_ts)
        self._expire(key)
        if self._current.pop(key, None) is not None:
            self._record(StatusChange(channel, thread_ts, "", "reply", self._clock()))

    def get(self, *, channel: str, thread_ts: str) -> ThreadStatus | None:
        key = (channel, thread_ts)
        self._expire(key)
        return self._current.get(key)

    def current(self, *, channel: str | None = None) -> list[ThreadStatus]:
        for key in list(self._current):
            self._expire(key)
        return [s for s in self._current.values() if channel in (None, s.channel)]
