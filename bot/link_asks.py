"""Asking Slack for a Socket Mode link (``apps.connections.open``), a failure as a value;
and the ``disconnect`` reasons that refuse one until something outside signoff changes.

slack_sdk's own ask logged an ERROR quoting Slack's whole answer and raised, and its
connect loops logged another (with a traceback) for every attempt, for as long as an
outage or a revoked app token lasted, while ``/readyz`` read "connection lost". Here a
failed ask says what Slack answered (for ``/readyz`` and one WARNING line), whether it
refuses the token (start-up ends on that), and how long Slack asked to be left alone
(a 429's Retry-After, after the client's own retries of it).
"""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from .slack_errors import delivery_error, what_slack_said
from .slack_fields import shown
from .token_check import app_token_refusal

__all__ = ["REFUSALS", "ROUTINE", "NoLink", "ask_for_link", "refusal", "upgrade_failure"]

# Slack's reasons for refusing a link that a retry at once would only meet again: what
# /readyz says, and the one WARNING line.
REFUSALS = {
    "link_disabled": (
        "turned off for the app in Slack (link_disabled)",
        "Slack says Socket Mode is turned off for this app (disconnect: link_disabled): "
        "no message, click or command reaches signoff until it is turned on again in the "
        "app's settings (Socket Mode)",
    ),
    "too_many_websockets": (
        "Slack refuses the app another connection (too_many_websockets)",
        "Slack refuses signoff a Socket Mode connection (disconnect: too_many_websockets): "
        "the app holds as many as Slack allows (10): in other processes run with this "
        "SLACK_APP_TOKEN, or old links of this one Slack still counts; no message, click "
        "or command reaches signoff until one of them ends",
    ),
}

# The reasons Slack gives for ending a link it replaces (a refresh, or one ~10 s ahead).
ROUTINE = frozenset({"warning", "refresh_requested"})


def refusal(reason: str) -> tuple[str, str]:
    """What /readyz and the WARNING line say of a refusal: a known one's own words; for a
    reason Slack added since (its list is open), that it closes the link before ``hello``."""
    if reason in REFUSALS:
        return REFUSALS[reason]
    said = f"disconnect: {shown(reason, 40)[1:-1]}"
    return (
        f"Slack closes each new link before its hello ({said})",
        f"Slack closes signoff's Socket Mode link before its hello, for a reason signoff does "
        f"not know ({said}): no message, click or command reaches signoff until it keeps one",
    )


class NoLink(Exception):
    """Slack gave no link: ``why`` for people; ``for_good`` when it refused the app token,
    which no retry changes; ``retry_after``, the seconds a 429 asked to wait."""

    def __init__(self, why: str, *, for_good: bool = False, retry_after: float | None = None):
        super().__init__(why)
        self.why = why
        self.for_good = for_good
        self.retry_after = retry_after


async def ask_for_link(client: AsyncWebClient, *, app_token: str) -> str:
    """A fresh WebSocket URL for the app, or ``NoLink``."""
    try:
        response = await client.apps_connections_open(app_token=app_token)
    except SlackApiError as exc:
        refusal = app_token_refusal(exc)
        if refusal is not None:
            raise NoLink(refusal, for_good=True) from None
        raise NoLink(
            f"Slack gives no link (apps.connections.open: {what_slack_said(exc)})",
            retry_after=delivery_error(exc).retry_after,
        ) from None
    except (aiohttp.ClientError, OSError) as exc:  # TimeoutError is an OSError
        said = str(exc) or type(exc).__name__
        raise NoLink(f"Slack cannot be reached (apps.connections.open: {said})") from None
    url = response.get("url")
    if not isinstance(url, str) or not url:
        raise NoLink("Slack gives no link (apps.connections.open: an answer with no url)")
    return url


def upgrade_failure(exc: BaseException) -> str:
    """What a failed WebSocket upgrade says, without its URL (its ticket is a credential
    while it lasts): the status answered, or the kind of failure."""
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"HTTP {exc.status}"
    return type(exc).__name__
