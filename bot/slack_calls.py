"""Every Slack Web API attempt, reported as a ``SlackApiCall`` without touching the callers.

slack_sdk offers each response (and each transport error) to the client's retry handlers
in order, before it retries or returns. ``ObservedAttempts`` goes first in that list and
never asks for a retry: it only looks. So a call that met two 429s and then succeeded
counts ``ratelimited`` twice and ``ok`` once, and the retry handlers behind it work as
before.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from agent_core.observe import ApiOutcome, Observer, SlackApiCall

__all__ = ["ObservedAttempts", "classify"]


def classify(response: HttpResponse | None, error: Exception | None) -> tuple[ApiOutcome, str]:
    """(outcome, error code) of one attempt."""
    if response is None or error is not None:
        return "error", type(error).__name__ if error is not None else "no response"
    if response.status_code == 429:
        return "ratelimited", "ratelimited"
    body: Any = response.body
    if response.status_code >= 400:
        code = body.get("error") if isinstance(body, dict) else None
        return "error", str(code or f"http {response.status_code}")
    if isinstance(body, dict) and body.get("ok") is False:
        error_code = str(body.get("error") or "unknown")
        return ("ratelimited" if error_code == "ratelimited" else "error"), error_code
    return "ok", ""


def method_of(request: HttpRequest) -> str:
    path = urlparse(str(request.url)).path.rstrip("/")
    name = path.rsplit("/", 1)[-1]
    # Anything that is not a plain method name (a file upload URL) is one label value.
    return name if name.replace(".", "").isalnum() and "." in name else "other"


class ObservedAttempts(AsyncRetryHandler):
    def __init__(self, observer: Observer) -> None:
        super().__init__(max_retry_count=0)
        self.observer = observer

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        outcome, code = classify(response, error)
        self.observer.emit(SlackApiCall(method=method_of(request), outcome=outcome, error=code))
        return False
