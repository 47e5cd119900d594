"""The Slack tokens checked at start-up: a token Slack refuses stops ``run`` with one line.

``auth.test`` is the bot token's first call. The app token's is ``apps.connections.open``,
which the Socket Mode client retries forever on any error; before the first ``hello`` a
refusal that no retry can change (a wrong, revoked or mistyped token) ends start-up
instead, so an operator sees what to fix rather than a process that never gets ready.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from .errors import ConfigError
from .slack_errors import answer_field, passing, what_slack_said

__all__ = ["app_token_refusal", "who_am_i"]


async def who_am_i(client: AsyncWebClient) -> dict[str, Any]:
    """``auth.test`` for the bot token; a refusal is a ``ConfigError``."""
    try:
        return dict((await client.auth_test()).data)  # type: ignore[arg-type]
    except (aiohttp.ClientError, OSError) as exc:  # TimeoutError is an OSError
        # Its own text may be empty (a timeout) or the socket's alone: say what was tried.
        said = (
            f"no answer within {client.timeout} s (SIGNOFF_SLACK_TIMEOUT_S)"
            if isinstance(exc, TimeoutError)
            else exc
        )
        raise ConfigError(
            f"could not reach Slack at {client.base_url} (SLACK_API_URL) for auth.test: "
            f"{str(said) or type(exc).__name__}"
        ) from None
    except SlackApiError as exc:
        if passing(exc):  # start-up still ends (a restart tries again), named for what it is
            raise ConfigError(
                f"could not check SLACK_BOT_TOKEN: Slack answered auth.test with {what_slack_said(exc)}"
            ) from None
        raise ConfigError(
            f"Slack refused SLACK_BOT_TOKEN (auth.test: {what_slack_said(exc)})"
        ) from None


def app_token_refusal(exc: BaseException) -> str | None:
    """What to tell the operator when ``apps.connections.open`` failed with ``exc``, if
    no retry can help; None for a failure that may pass."""
    if not isinstance(exc, SlackApiError) or passing(exc):
        return None
    needed = answer_field(exc, "needed")
    detail = f"; the app token needs the {needed} scope" if needed else ""
    return f"Slack refused SLACK_APP_TOKEN (apps.connections.open: {what_slack_said(exc)}{detail})"
