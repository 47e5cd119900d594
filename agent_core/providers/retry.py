"""Our own retry loop, the same for every provider (the SDKs' retries are switched off).

One call is tried up to ``RetryPolicy.max_attempts`` times. Timeouts, connection errors,
streams that cannot be read and HTTP 408/409/429/5xx (incl. Anthropic's 529) are retried;
other 4xx and quota errors are not, unless the server's ``x-should-retry`` says otherwise
(``Failure.retryable``: ``false`` is told at once, ``true`` retried within the policy). The wait before a retry is the server's ``retry-after-ms`` / ``retry-after``
when it sent one (a wait longer than ``max_retry_after_s`` ends the call at once), else
exponential backoff with jitter, as for one that asks for no wait (0, a date gone by:
a gateway that says so on every 429 had all attempts made back to back, as the SDKs
do not). ``sleep`` and ``rng`` are injectable so tests never wait.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from ..backoff import parse_retry_after
from .errors import ProviderError
from .failure import Failure

__all__ = [
    "RetryPolicy",
    "Sleep",
    "call_with_retries",
    "describe_connection_error",
    "parse_duration",
    "parse_retry_after",
    "retry_reason",
    "transport_failure",
]

log = logging.getLogger("agent_core.providers")

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently one model call is retried."""

    max_attempts: int = 4
    base_delay_s: float = 1.0
    max_delay_s: float = 20.0
    jitter: float = 0.5
    """Fraction of each backoff that is randomised away: the wait is in [d*(1-j), d]."""
    max_retry_after_s: float = 60.0
    """A server asking us to wait longer than this ends the call instead."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("jitter must be within [0, 1]")

    def backoff(self, retry_number: int, rng: random.Random) -> float:
        """The wait before retry ``retry_number`` (1 for the first retry)."""
        delay = min(self.max_delay_s, self.base_delay_s * 2.0 ** (retry_number - 1))
        return delay * (1.0 - self.jitter * rng.random())


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_S = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(text: str) -> float | None:
    """Seconds in a duration as OpenAI's ``x-ratelimit-reset-*`` headers write it ("6m0s",
    "41.724s", "12ms", "1h2m3s"); ``None`` when it is not one."""
    text = text.strip()
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(n) * _UNIT_S[u] for n, u in parts)


def describe_connection_error(exc: BaseException) -> str:
    """A short, secret-free reason for a transport failure (walks the cause chain)."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    texts: list[str] = []
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cur, socket.gaierror):
            return "host name not found"
        if isinstance(cur, ssl.SSLError):
            return "TLS handshake failed"
        if isinstance(cur, BrokenPipeError | ConnectionResetError | ConnectionAbortedError):
            return "connection dropped"  # connected, then the far side went: told by type
        texts.append(str(cur).lower())
        cur = cur.__cause__ or cur.__context__
    joined = " ".join(texts)
    if "refused" in joined or "all connection attempts failed" in joined:
        return "connection refused"
    if "name or service not known" in joined or "nodename nor servname" in joined:
        return "host name not found"
    if "ssl" in joined or "certificate" in joined:
        return "TLS handshake failed"
    # aiohttp (the Anthropic SDK's transport) says a body cut off midway "is not completed"
    dropped = ("disconnected", "reset", "closed", "payload is not completed")
    if any(word in joined for word in dropped):
        return "connection dropped"
    return "connection failed"


def transport_failure(exc: BaseException) -> Failure | None:
    """What the SDKs let through of their HTTP client, as the failure it is. They wrap it
    while sending, but not while they read an error status's body (a 429 cut off midway
    came out as ``httpx2.ReadError``, neither retried nor told as a dropped connection):
    an answer that broke off (``cut``, retried like a dropped connection), from a server
    that was reached; and a body that does not decode (a proxy's mislabelled gzip) was
    reached and answered, wrapped or not: unreadable, not a server that cannot be reached."""
    import httpx2  # loaded by the SDK, which failed here: no cost at start-up

    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, httpx2.DecodingError):
            return Failure("unreadable", detail="a body that cannot be decoded")
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    if isinstance(exc, httpx2.TimeoutException):
        return Failure("timeout", detail="timed out")
    if isinstance(exc, httpx2.TransportError):  # unwrapped: after the status came
        return Failure("cut", detail=describe_connection_error(exc))
    return None


def retry_reason(f: Failure) -> str:
    """A failure as people waiting on it are told: "529 overloaded_error", "timed out"."""
    if f.kind != "status":
        return f.detail or f.kind
    return " ".join(p for p in (str(f.status), f.error_type or f.error_code or "") if p)


def _summary(f: Failure) -> str:
    if f.kind == "status":
        parts = [str(f.status), f.error_code or f.error_type or ""]
    else:
        parts = [f.detail or f.kind]
    if f.request_id:  # a stream that broke after its 200 has one too
        parts.append(f"request-id {f.request_id}")
    return " ".join(p for p in parts if p)


async def call_with_retries(
    attempt: Callable[[], Awaitable[T]],
    *,
    classify: Callable[[Exception], Failure | None],
    give_up: Callable[[Failure, int], ProviderError],
    policy: RetryPolicy,
    sleep: Sleep | None = None,
    rng: random.Random | None = None,
    label: str = "model call",
    on_retry: Callable[[Failure, int, float], Awaitable[None]] | None = None,
) -> T:
    """``await attempt()`` until it succeeds or the policy says stop.

    ``classify`` turns an SDK exception into a ``Failure`` (``None``: not ours, re-raised
    untouched); ``give_up`` turns the last failure and the attempt count into the
    ``ProviderError`` raised. Cancellation is never retried or wrapped. ``on_retry``
    hears of each failure that is retried (the failure, its attempt, the wait) before
    the wait; what it raises is logged, never the call's.
    """
    do_sleep = sleep or asyncio.sleep
    jitter_rng = rng or random.Random()
    number = 0
    while True:
        number += 1
        try:
            return await attempt()
        except Exception as exc:
            failure = classify(exc)
            if failure is None:
                raise
        delay: float | None
        if not failure.retryable or number >= policy.max_attempts:
            delay = None
        elif failure.retry_after:  # None or 0: no wait asked for, so backoff
            honour = failure.retry_after <= policy.max_retry_after_s
            delay = failure.retry_after if honour else None
        else:
            delay = policy.backoff(number, jitter_rng)
        if delay is None:
            log.warning("%s failed after %d attempt(s): %s", label, number, _summary(failure))
            raise give_up(failure, number) from None
        log.warning(
            "%s attempt %d/%d failed (%s); retrying in %.2f s",
            label,
            number,
            policy.max_attempts,
            _summary(failure),
            delay,
        )
        if on_retry is not None:
            try:
                await on_retry(failure, number, delay)
            except Exception:
                log.exception("%s: telling of the retry failed", label)
        await do_sleep(delay)
