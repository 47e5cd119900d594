"""What a failed Slack write means for delivery: wait and try again, look first, or give up.

A 429 is waited out as Slack asks. An answer that names the message, the thread or the
channel as the trouble (``PERMANENT``) is final: the entry is recorded as failed and the
entries queued behind it go out. Anything else (a 5xx, a dropped connection, an error
about the token) is retried with backoff, after looking whether the first try landed.
"""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from agent_core.backoff import parse_retry_after
from agent_core.surface import DeliveryError

from .slack_answers import PERMANENT

__all__ = [
    "answer_field",
    "answer_status",
    "definite",
    "delivery_error",
    "look_first",
    "passing",
    "slack_error",
    "what_slack_said",
]


def _answer(exc: BaseException) -> object:
    return exc.response if isinstance(exc, SlackApiError) else None


def answer_field(exc: BaseException, key: str) -> str:
    """A field of Slack's answer in ``exc`` (``error``, ``needed``), or "". An answer that
    was not JSON (a proxy's page, a body cut short) leaves slack_sdk's error holding
    aiohttp's own response, which has no ``.get``: never assume one."""
    get = getattr(_answer(exc), "get", None)
    return str(get(key) or "") if callable(get) else ""


def answer_status(exc: BaseException) -> int | None:
    """The HTTP status of the answer in ``exc`` (a SlackResponse's or aiohttp's), if any."""
    response = _answer(exc)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    return int(status) if isinstance(status, int) else None


def slack_error(exc: BaseException) -> str:
    """Slack's error code, or "" when Slack gave none (no answer, not an API error)."""
    return answer_field(exc, "error")


# Errors a later attempt may not see again; any other answer is Slack's verdict.
_PASSING = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


def what_slack_said(exc: BaseException) -> str:
    """Slack's error code, or the answer's HTTP status when it named none."""
    return slack_error(exc) or f"HTTP {answer_status(exc)}"


def passing(exc: SlackApiError) -> bool:
    """A failure a later attempt may not see: Slack's own, or an outage page or a body cut
    short (no error)."""
    said = slack_error(exc)
    return not said or said in _PASSING or (answer_status(exc) or 500) >= 500


def definite(exc: BaseException) -> bool:
    """Did Slack answer (so the call did not take effect), rather than maybe not?"""
    if not callable(getattr(_answer(exc), "get", None)):
        return False  # no answer, or one that is not Slack's: it may have taken effect
    return (answer_status(exc) or 200) < 500


_LONGEST_WAIT = 600.0  # seconds; Slack asks for seconds


def delivery_error(exc: Exception) -> DeliveryError:
    """What a failed call means for delivery."""
    if isinstance(exc, SlackApiError):
        status = answer_status(exc) or 200
        error = slack_error(exc)
        if status == 429 or error == "ratelimited":
            headers = getattr(exc.response, "headers", {}) or {}
            after = headers.get("Retry-After") or headers.get("retry-after")
            # Slack sends seconds; a proxy in front of it may send an HTTP date: unread,
            # the wait is a second, never a ValueError taken for a bug of ours. Under a
            # second (a proxy's 0, a date past) is a second too, Slack's smallest: taken
            # as given, the thread was retried every few ms for as long as the 429s lasted.
            # Over ten minutes (a proxy's "inf") is ten: a thread's delivery is not parked
            # until the bot restarts.
            wait = parse_retry_after({"retry-after": after}) if isinstance(after, str) else None
            wait = 1.0 if wait is None else min(max(wait, 1.0), _LONGEST_WAIT)
            return DeliveryError(f"ratelimited ({wait:g}s)", retry_after=wait)
        if error in PERMANENT:
            return DeliveryError(error, permanent=True)
        return DeliveryError(error or f"HTTP {status}", ambiguous=True)
    return DeliveryError(f"{type(exc).__name__}: {exc}", ambiguous=True)


def look_first(error: DeliveryError) -> DeliveryError:
    """``error`` for a write that came after part of the entry landed (a reply's start):
    whatever the error (a 429 above all), the retry looks in the thread first, or it would
    post again what is there."""
    if error.permanent or error.ambiguous:
        return error
    return DeliveryError(error.reason, retry_after=error.retry_after, ambiguous=True)
