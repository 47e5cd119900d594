"""Every Slack Web API attempt, reported as a ``SlackApiCall`` without touching the callers.

slack_sdk offers each response (and each transport error) to the client's retry handlers
in order, before it retries or returns. ``ObservedAttempts`` goes first in that list and
never asks for a retry: it only looks. So a call that met two 429s and then succeeded
counts ``ratelimited`` twice and ``ok`` once, and the retry handlers behind it work as
before. The request a handler is shown lacks a JSON body (most methods send one), so
``ObservedWebClient`` notes the channel and thread each call names for the handler.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlparse

from aiohttp import FormData
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from agent_core.observe import ApiOutcome, Observer, SlackApiCall

__all__ = ["ObservedAttempts", "ObservedWebClient", "classify", "posting"]

# (channel, thread_ts, ts) of the call this task is making; read by ObservedAttempts.
_NAMED: ContextVar[tuple[str, str, str]] = ContextVar("slack_call_named", default=("", "", ""))


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
        channel, thread_ts, ts = _NAMED.get()
        self.observer.emit(
            SlackApiCall(
                method=method_of(request),
                outcome=outcome,
                error=code,
                channel=channel,
                thread_ts=thread_ts,
                ts=ts,
            )
        )
        return False


def _named(*bodies: object) -> tuple[str, str, str]:
    for body in bodies:
        if not isinstance(body, Mapping):
            continue
        # Newer methods (agents.sessions.*, assistant.threads.*) name it channel_id.
        channel = body.get("channel", body.get("channel_id"))
        if isinstance(channel, str):
            thread_ts, ts = body.get("thread_ts"), body.get("ts")
            return (
                channel,
                thread_ts if isinstance(thread_ts, str) else "",
                ts if isinstance(ts, str) else "",
            )
    return "", "", ""


class ObservedWebClient(AsyncWebClient):
    """An ``AsyncWebClient`` whose calls tell ``ObservedAttempts`` what they are about."""

    async def api_call(
        self,
        api_method: str,
        *,
        json: dict[Any, Any] | None = None,
        data: dict[Any, Any] | FormData | None = None,
        params: dict[Any, Any] | None = None,
        **kwargs: Any,
    ) -> AsyncSlackResponse:
        token = _NAMED.set(_named(json, data, params))
        try:
            return await super().api_call(api_method, json=json, data=data, params=params, **kwargs)
        finally:
            _NAMED.reset(token)


def posting(client: AsyncWebClient) -> ObservedWebClient:
    """``client`` for a post telling a person something: the same token, address,
    connections and observer, tried again only on a 429 (which never lands). A post
    retried after a 5xx or a dropped connection that Slack had stored shows twice."""
    watch = [h for h in client.retry_handlers if isinstance(h, ObservedAttempts)]
    return ObservedWebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        session=client.session,
        retry_handlers=[*watch, AsyncRateLimitErrorRetryHandler(max_retry_count=3)],
    )
