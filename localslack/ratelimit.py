"""Token-bucket rate limiting per Slack tier, switchable at runtime."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["METHOD_TIERS", "Rate", "RateLimiter"]


@dataclass(frozen=True)
class Rate:
    per_second: float
    burst: int


# Per-minute budgets from Slack's tier table; bursts are a guess at "occasional bursts".
TIERS: dict[str, Rate] = {
    "tier1": Rate(1 / 60, 2),
    "tier2": Rate(20 / 60, 5),
    "tier3": Rate(50 / 60, 10),
    "tier4": Rate(100 / 60, 20),
    # chat.postMessage: ~1 message per second per channel, short bursts tolerated.
    "post": Rate(1.0, 3),
}

METHOD_TIERS: dict[str, str] = {
    # The current reference lists apps.connections.open as Tier 3 (older docs: Tier 1); Tier 3
    # keeps reconnect tests workable with limits switched on.
    "apps.connections.open": "tier3",
    "auth.test": "tier4",
    "chat.postMessage": "post",
    "chat.update": "tier3",
    "chat.delete": "tier3",
    "chat.postEphemeral": "tier4",
    "reactions.add": "tier3",
    "reactions.remove": "tier2",
    "conversations.info": "tier3",
    "conversations.history": "tier3",
    "conversations.replies": "tier3",
    "users.info": "tier4",
    "usergroups.list": "tier2",
    "usergroups.users.list": "tier2",
    "views.open": "tier4",
    "views.update": "tier4",
    "views.push": "tier4",
    "files.getUploadURLExternal": "tier4",
    "files.completeUploadExternal": "tier4",
    "files.info": "tier4",
    "views.publish": "tier4",
    "conversations.open": "tier3",
    # Slack's reference: startStream and stopStream Tier 2, appendStream Tier 4.
    "chat.startStream": "tier2",
    "chat.appendStream": "tier4",
    "chat.stopStream": "tier2",
    # "Special" for setStatus (undocumented numbers): generous, as for postMessage's bursts.
    "assistant.threads.setStatus": "tier4",
    "agents.sessions.setStatus": "tier3",
}


class _Bucket:
    def __init__(self, rate: Rate, now: float) -> None:
        self.rate = rate
        self.tokens = float(rate.burst)
        self.updated = now

    def take(self, now: float) -> float | None:
        """Consume one token; return seconds to wait instead when empty."""
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(float(self.rate.burst), self.tokens + elapsed * self.rate.per_second)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return None
        return (1.0 - self.tokens) / self.rate.per_second


class RateLimiter:
    def __init__(self, *, enabled: bool, clock: Callable[[], float] = time.monotonic) -> None:
        self.enabled = enabled
        self._clock = clock
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def reset(self) -> None:
        self._buckets.clear()

    def check(self, method: str, *, token: str, channel: str | None = None) -> int | None:
        """Retry-After seconds if this call must be refused, else None."""
        if not self.enabled:
            return None
        tier = METHOD_TIERS.get(method, "tier3")
        key = f"{token}:{channel}" if tier == "post" else token
        bucket = self._buckets.get((method, key))
        now = self._clock()
        if bucket is None:
            bucket = self._buckets[(method, key)] = _Bucket(TIERS[tier], now)
        wait = bucket.take(now)
        return None if wait is None else max(1, math.ceil(wait))
