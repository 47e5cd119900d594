"""``SIGNOFF_APPROVALS_CHANNEL`` checked against Slack at start-up, before any card needs it.

A card posted to a channel that does not exist, or that signoff is not in, fails for
good, and the request it asks about would wait unseen until it expires. So ``run`` and
``dev`` stop at start-up with one line saying what to fix instead.
"""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from .errors import ConfigError
from .slack_errors import answer_field, slack_error

__all__ = ["check_approvals_channel"]


async def check_approvals_channel(client: AsyncWebClient, channel: str | None) -> None:
    if channel is None:
        return
    name = f"SIGNOFF_APPROVALS_CHANNEL={channel}"
    try:
        info = (await client.conversations_info(channel=channel)).get("channel") or {}
    except SlackApiError as exc:
        error = slack_error(exc)
        if error == "channel_not_found":
            raise ConfigError(
                f"{name}: no such channel, or a private one signoff is not in; "
                "invite signoff to it (/invite @signoff)"
            ) from None
        needed = answer_field(exc, "needed")
        detail = f" (the app needs the {needed} scope)" if needed else ""
        raise ConfigError(f"{name}: cannot check it: {error}{detail}") from None
    if info.get("is_im") or info.get("is_mpim"):
        raise ConfigError(f"{name}: a direct message, not a channel where approvers are")
    if info.get("is_archived"):
        raise ConfigError(f"{name}: the channel is archived")
    if not info.get("is_member"):
        raise ConfigError(f"{name}: signoff is not a member; invite it (/invite @signoff)")
