"""Identifier and timestamp generation shaped like Slack's (opaque, but recognisable)."""

from __future__ import annotations

import random
import string
import time
import uuid
from collections.abc import Callable

__all__ = ["Clock", "IdSource", "TsSource", "format_ts", "system_clock"]

Clock = Callable[[], float]

_ALNUM = string.ascii_uppercase + string.digits


def system_clock() -> float:
    return time.time()


def format_ts(micros: int) -> str:
    return f"{micros // 1_000_000:10d}.{micros % 1_000_000:06d}"


class TsSource:
    """Message timestamps: wall-clock based but strictly increasing, because Slack uses the
    (channel, ts) pair as a message's primary key and two posts must never collide."""

    def __init__(self, *, clock: Clock) -> None:
        self._clock = clock
        self._last = 0

    def next(self) -> str:
        micros = int(self._clock() * 1_000_000)
        self._last = max(micros, self._last + 1)
        return format_ts(self._last)


class IdSource:
    def __init__(self, *, rng: random.Random, clock: Clock) -> None:
        self._rng = rng
        self._clock = clock

    def _token(self, length: int, alphabet: str = _ALNUM) -> str:
        return "".join(self._rng.choice(alphabet) for _ in range(length))

    def event_id(self) -> str:
        return "Ev" + self._token(10)

    def envelope_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def client_msg_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def file_id(self) -> str:
        return "F" + self._token(10)

    def view_id(self) -> str:
        return "V" + self._token(10)

    def block_id(self) -> str:
        return self._token(5, string.ascii_letters + string.digits)

    def ticket(self) -> str:
        return self._token(32, string.ascii_lowercase + string.digits)

    def secret(self) -> str:
        return self._token(24, string.ascii_letters + string.digits)

    def trigger_id(self) -> str:
        return f"{self._rng.randrange(10**12)}.{self._rng.randrange(10**12)}.{self._token(32)}"

    def view_hash(self) -> str:
        return f"{int(self._clock())}.{self._token(8, string.ascii_letters + string.digits)}"

    def event_context(self) -> str:
        return "4-" + self._token(40, string.ascii_letters + string.digits)
