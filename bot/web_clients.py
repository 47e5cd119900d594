"""The bot's clients for Slack's Web API, each with the retries its use can afford.

With an observer, every attempt is reported first (``slack_calls``). Reads and
idempotent calls retry 429s, connection errors and 5xx; a post or a stream append does
not, since a retry after a first attempt that landed would show it twice (delivery
retries itself, after looking; the live view retries only a 429, which never lands).
``slack_surface`` also serves a CLI given the bot's tokens.
"""

from __future__ import annotations

import aiohttp
from slack_sdk.http_retry.async_handler import default_interval_calculator
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.interval_calculator import RetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient

from agent_core.observe import Observer
from sessions import Home

from .config import Settings
from .live_streams import LiveStreams
from .slack_calls import ObservedAttempts, ObservedWebClient
from .slack_surface import SlackSurface

__all__ = ["kept_alive", "live_client", "slack_surface", "web_client"]


class _ScaledBackoff(RetryIntervalCalculator):
    """slack_sdk's waits between retries (0.5 s doubling, plus up to 1 s of jitter) times
    ``scale``: a test of what a bot does while Slack drops its connections need not wait
    a second or two for each retry."""

    def __init__(self, scale: float) -> None:
        self.scale = scale

    def calculate_sleep_duration(self, current_attempt: int) -> float:
        return self.scale * default_interval_calculator.calculate_sleep_duration(current_attempt)


def web_client(
    token: str,
    base_url: str | None,
    *,
    observer: Observer | None = None,
    retries: bool = True,
    session: aiohttp.ClientSession | None = None,
    timeout: int = 30,
    retry_scale: float = 1.0,
) -> AsyncWebClient:
    """A client for Slack's Web API; with ``observer``, every attempt is reported first.

    With ``retries`` it honours Retry-After on 429 and retries connection and 5xx errors
    (for reads and idempotent calls). The outbox's client has none: a retried post whose
    first attempt landed would post twice, so delivery retries itself, after looking.
    With ``session`` its connections are kept and reused (else each call opens one).
    A call with no answer in ``timeout`` seconds (SIGNOFF_SLACK_TIMEOUT_S) raises
    TimeoutError: it may have taken effect. ``retry_scale`` shortens (or lengthens) the
    waits between retries of a connection or 5xx error (a 429 waits what Slack asks).
    """
    watch = [ObservedAttempts(observer)] if observer is not None else []
    backoff = default_interval_calculator if retry_scale == 1.0 else _ScaledBackoff(retry_scale)
    retrying = [
        AsyncConnectionErrorRetryHandler(max_retry_count=2, interval_calculator=backoff),
        AsyncRateLimitErrorRetryHandler(max_retry_count=5),
        AsyncServerErrorRetryHandler(max_retry_count=2, interval_calculator=backoff),
    ]
    return ObservedWebClient(
        token=token,
        base_url=base_url or "https://slack.com/api/",
        retry_handlers=[*watch, *(retrying if retries else [])],
        session=session,
        timeout=timeout,
    )


def kept_alive(settings: Settings) -> aiohttp.ClientSession:
    """Connections kept for the bot's busiest clients. slack_sdk applies a client's
    timeout only to the sessions it makes itself: given one, a call waits as long as the
    session lets it (aiohttp's default: 5 minutes), so the session has the timeout too."""
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=settings.slack_timeout_s))


def _unretried(
    settings: Settings, *, observer: Observer | None, session: aiohttp.ClientSession | None
) -> AsyncWebClient:
    assert settings.slack_bot_token is not None
    return web_client(
        settings.slack_bot_token.get_secret_value(),
        settings.slack_api_url,
        observer=observer,
        retries=False,
        session=session,
        timeout=settings.slack_timeout_s,
    )


def slack_surface(
    settings: Settings,
    *,
    observer: Observer | None = None,
    streams: LiveStreams | None = None,
    session: aiohttp.ClientSession | None = None,
) -> SlackSurface:
    """Where the outbox is delivered, for the bot and for a CLI given the bot's tokens
    (which finalizes, or takes away, what a stopped bot left streaming)."""
    client = _unretried(settings, observer=observer, session=session)
    if streams is None:
        streams = LiveStreams(client, home=Home(settings.home))
    return SlackSurface(client, streams=streams)


def live_client(
    settings: Settings,
    *,
    observer: Observer | None = None,
    session: aiohttp.ClientSession | None = None,
) -> AsyncWebClient:
    """For the live view: a stream append retried after it landed would show text twice,
    so only a 429 (which never landed) is retried."""
    client = _unretried(settings, observer=observer, session=session)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=3))
    return client
