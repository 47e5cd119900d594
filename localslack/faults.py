"""Scripted Web API failures: "the next N calls of method X fail like this" (or every call).

A fault fires either before the method runs (nothing happens on Slack's side: the usual
error) or, with ``after_commit``, after it ran: the message is stored and its events go out,
but the client gets the error, which is the case where a client that retries posts twice.
``drop_connection`` closes the TCP connection instead of answering (slack_sdk's default
connection-error handler then retries once on its own); ``garbage`` answers 200 with an
HTML page, as a proxy or load balancer in the way does; ``cut_short`` answers 200 with JSON
that ends mid-object, as a connection a proxy closed mid-answer leaves it; ``hang`` takes
the request and never answers (a Slack that hung), until the server stops, which drops the
connection: the client's own timeout is all that ends the call. A workspace that lacks a
surface is a fault that never runs out (``count=None``) with the error such a workspace gives.
"""

from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from localslack.errors import SlackError

__all__ = ["SURFACE_ERRORS", "Fault", "FaultInjector", "SurfaceError"]

# What a workspace without a method answers, as the fallback paths of apps meet it.
SurfaceError = Literal[
    "unknown_method", "not_allowed_token_type", "feature_not_enabled", "missing_scope"
]
SURFACE_ERRORS: tuple[str, ...] = get_args(SurfaceError)


@dataclass
class Fault:
    method: str
    error: str
    status: int
    retry_after: int | None
    # None: every matching call, for as long as the fault stays.
    remaining: int | None
    after_commit: bool = False
    drop_connection: bool = False
    garbage: bool = False
    cut_short: bool = False
    hang: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    # Only calls about this channel (their `channel` or `channel_id` argument); None: any.
    channel: str | None = None
    fired: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "error": self.error,
            "status": self.status,
            "retry_after": self.retry_after,
            "remaining": self.remaining,
            "after_commit": self.after_commit,
            "drop_connection": self.drop_connection,
            "garbage": self.garbage,
            "cut_short": self.cut_short,
            "hang": self.hang,
            "extra": copy.deepcopy(self.extra),
            "channel": self.channel,
            "fired": self.fired,
        }

    def as_error(self) -> SlackError:
        headers = {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}
        return SlackError(
            self.error, status=self.status, headers=headers, extra=copy.deepcopy(self.extra)
        )


class FaultInjector:
    def __init__(self) -> None:
        self._faults: list[Fault] = []
        # Set when the server stops: every hung call lets go then (else the server's
        # shutdown waits for them), and a fresh one holds the calls that hang after.
        self._release = asyncio.Event()

    def add(
        self,
        *,
        method: str,
        error: str | None = None,
        count: int | None = 1,
        status: int = 200,
        retry_after: int | None = None,
        after_commit: bool = False,
        drop_connection: bool = False,
        garbage: bool = False,
        cut_short: bool = False,
        hang: bool = False,
        extra: dict[str, Any] | None = None,
        channel: str | None = None,
    ) -> Fault:
        """`method="*"` matches every method. A 429 defaults to error `ratelimited` and
        Retry-After 1, because that is the only shape Slack's clients know how to retry."""
        if count is not None and count < 1:
            raise ValueError("count must be at least 1 (or None for every call)")
        if status == 429:
            error = error or "ratelimited"
            retry_after = 1 if retry_after is None else retry_after
        fault = Fault(
            method=method,
            error=error or "internal_error",
            status=status,
            retry_after=retry_after,
            remaining=count,
            after_commit=after_commit,
            drop_connection=drop_connection,
            garbage=garbage,
            cut_short=cut_short,
            hang=hang,
            extra=dict(extra or {}),
            channel=channel,
        )
        self._faults.append(fault)
        return fault

    def take(self, method: str, *, channel: str | None = None) -> Fault | None:
        for fault in self._faults:
            if fault.channel is not None and fault.channel != channel:
                continue
            if fault.method in (method, "*") and (fault.remaining is None or fault.remaining > 0):
                if fault.remaining is not None:
                    fault.remaining -= 1
                fault.fired += 1
                return fault
        return None

    def remove(self, fault: Fault) -> None:
        if fault in self._faults:
            self._faults.remove(fault)

    def clear(self) -> None:
        self._faults.clear()

    async def hold(self) -> None:
        """Where a hung call waits, until :meth:`release_hung`."""
        await self._release.wait()

    def release_hung(self) -> None:
        self._release.set()
        self._release = asyncio.Event()

    def pending(self) -> list[Fault]:
        return [f for f in self._faults if f.remaining is None or f.remaining > 0]
