"""An ``openai`` SDK exception as the ``Failure`` it is (``classify_openai_error``).

Chat Completions errors come up front as an ``APIStatusError`` (status, body, headers) or
midway in a stream as a bare ``APIError`` (a ``{"error": …}`` chunk after the 200: no
status, no response), and OpenAI-compatible servers word both their own way (vLLM and
llama.cpp put the status in ``code``). Each is read here as the status it stands for, the
wait it asks for and whether it says to retry, so the retry loop treats them alike.
"""

from __future__ import annotations

from collections.abc import Mapping

from .failure import QUOTA_CODES, Failure, said_should_retry
from .retry import describe_connection_error, parse_duration, parse_retry_after

__all__ = ["classify_openai_error"]


def _str(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def classify_openai_error(exc: Exception) -> Failure | None:
    """An ``openai`` SDK exception as a ``Failure``; ``None`` for anything else."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return Failure("timeout", detail="timed out")
    if isinstance(exc, openai.APIConnectionError):
        return Failure("connection", detail=describe_connection_error(exc))
    if isinstance(exc, openai.APIStatusError):
        body = exc.body
        message: str | None = None
        if isinstance(body, dict):
            message = _str(body.get("message")) or _str(body.get("detail"))
        elif isinstance(body, str):
            message = body[:300]
        return Failure(
            "status",
            status=exc.status_code,
            error_type=_str(exc.type),
            error_code=_shown_code(_str(exc.code)),
            api_message=message,
            request_id=exc.request_id,
            retry_after=_asked_wait(exc.status_code, exc.response.headers, _str(exc.type)),
            should_retry=said_should_retry(exc.response.headers),
        )
    if isinstance(exc, openai.APIError):  # an error sent in the middle of a stream
        kind, code = _str(exc.type), _str(exc.code)
        return Failure(
            "status",
            status=_midway_status(kind, code),
            error_type=kind,
            error_code=_shown_code(code),
            api_message=exc.message,
        )
    return None


def _asked_wait(status: int, headers: Mapping[str, str], kind: str | None) -> float | None:
    """``retry-after``; for a 429 without it, when the limit it names (its type: ``tokens``,
    ``requests``; else each with nothing ``remaining``) is replenished, by the
    ``x-ratelimit-reset-*`` headers. A request bigger than what is left is refused while
    tokens remain, so the limit named counts, not the count left."""
    wait = parse_retry_after(headers)
    if wait is not None or status != 429:
        return wait
    limits = ("tokens", "requests")
    named = [name for name in limits if (kind or "").startswith(name[:-1])]
    spent = [n for n in limits if headers.get(f"x-ratelimit-remaining-{n}", "").strip() == "0"]
    waits = [parse_duration(headers.get(f"x-ratelimit-reset-{n}", "")) for n in named or spent]
    return max((w for w in waits if w is not None), default=None)


def _shown_code(code: str | None) -> str | None:
    """``code`` unless it is a number: vLLM and llama.cpp repeat the status there, which
    would be told twice ("400 400") in place of the error's type."""
    return None if code is None or code.isdigit() else code


def _midway_status(kind: str | None, code: str | None) -> int:
    """The HTTP status an error sent midway stands for (its response began as a 200).
    vLLM and llama.cpp put it in ``code``; a quota error is a 429 with its code, as sent
    up front: neither is retried, where a 500 would be."""
    if code is not None and code.isdigit() and 400 <= int(code) <= 599:
        return int(code)
    if kind in QUOTA_CODES or code in QUOTA_CODES or "rate_limit" in f"{kind} {code}":
        return 429
    return 400 if kind == "invalid_request_error" else 500
