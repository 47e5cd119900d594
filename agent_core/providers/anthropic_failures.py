"""An ``anthropic`` SDK exception as the ``Failure`` it is (``classify_anthropic_error``).

Messages API errors come up front as an ``APIStatusError``, and midway in a stream as an
``error`` event the SDK raises with the 200's response: its status is the one its type is
sent with, and of the 200's ``x-should-retry`` only ``false`` counts for it. A 429
without ``retry-after`` waits until the limits that ran out are replenished
(``anthropic-ratelimit-*``).
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Mapping

from .failure import Failure, said_not_to_retry, said_should_retry
from .retry import describe_connection_error, parse_retry_after

__all__ = ["classify_anthropic_error"]

# The HTTP status each error type is sent with, for errors that arrive mid-stream.
_STATUS_OF_TYPE = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "timeout_error": 504,
    "api_error": 500,
    "overloaded_error": 529,
}


def _text(body: object) -> str | None:
    return body[:300] if isinstance(body, str) else None


def _replenished_in(headers: Mapping[str, str]) -> float | None:
    """Seconds until every limit a 429's ``anthropic-ratelimit-*`` headers say ran out
    (``…-remaining: 0``) is replenished (``…-reset``, RFC 3339): the wait, for a 429
    that came without ``retry-after``. ``None`` when none did or a time is unreadable."""
    waits: list[float] = []
    for limit in ("requests", "tokens", "input-tokens", "output-tokens"):
        if headers.get(f"anthropic-ratelimit-{limit}-remaining", "").strip() != "0":
            continue
        try:
            reset = datetime.datetime.fromisoformat(headers[f"anthropic-ratelimit-{limit}-reset"])
        except (KeyError, ValueError):
            return None
        if reset.tzinfo is None:
            return None
        waits.append(reset.timestamp() - time.time())
    return max(0.0, *waits) if waits else None


def classify_anthropic_error(exc: Exception) -> Failure | None:
    """An ``anthropic`` SDK exception as a ``Failure``; ``None`` for anything else."""
    import anthropic

    if isinstance(exc, anthropic.APITimeoutError):
        return Failure("timeout", detail="timed out")
    if isinstance(exc, anthropic.APIConnectionError):
        return Failure("connection", detail=describe_connection_error(exc))
    if isinstance(exc, anthropic.APIStatusError):
        status, headers = exc.status_code, exc.response.headers
        said = said_should_retry(headers)
        if status < 400:  # an error event in a stream that began as a 200
            status = _STATUS_OF_TYPE.get(str(exc.type or ""), 500)
            said = said_not_to_retry(headers)  # the 200's true is not the error's
        wait = parse_retry_after(headers)
        if wait is None and status == 429:
            wait = _replenished_in(headers)
        return Failure(
            "status",
            status=status,
            error_type=str(exc.type) if exc.type else None,
            error_code=exc.error_code,
            api_message=exc.api_message or _text(exc.body),
            request_id=exc.request_id,
            retry_after=wait,
            should_retry=said,
        )
    return None
