"""The 👀 reaction that marks a message taken, where the thread has no status line."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from .slack_errors import slack_error

__all__ = ["react_taken"]

log = logging.getLogger("signoff.slack")


async def react_taken(client: AsyncWebClient, *, channel: str, ts: str) -> None:
    """The 👀 reaction that marks a message taken, best effort. ``client`` must belong to
    the running loop's thread (one with a kept-alive session is its loop's alone)."""
    try:
        await client.reactions_add(channel=channel, timestamp=ts, name="eyes")
    except SlackApiError as exc:
        if slack_error(exc) != "already_reacted":
            log.info("could not react to %s/%s: %s", channel, ts, slack_error(exc))
    except Exception as exc:  # a reaction is a courtesy; never fail ingest for it
        log.info("could not react to %s/%s: %s", channel, ts, exc)
