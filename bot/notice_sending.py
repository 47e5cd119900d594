"""An ephemeral note to one person in a card's thread (a refusal, a vote counted), or, for
someone outside the channel, in their direct message with signoff.

Anyone in the workspace can read a public channel and click its cards without joining it,
but Slack shows an ephemeral message only to the channel's members
(``chat.postEphemeral``: ``user_not_in_channel``). Dropped as undeliverable, the note
left such a clicker with a click that seemed lost; in their DM it names the channel.
So does a note for a conversation Slack has closed to signoff (``slack_answers.CLOSED``:
a click from a client that still shows a card in a channel archived since, or one
signoff was removed from).
"""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from agent_core.surface import Delivered
from sessions import OutboxEntry

from .slack_answers import CLOSED
from .slack_errors import delivery_error, slack_error
from .slack_text import channel_link, join, literal

__all__ = ["send_notice"]


async def send_notice(client: AsyncWebClient, entry: OutboxEntry) -> Delivered:
    """Send ``entry``'s note (its text was rendered by ``slack_text``); ``DeliveryError``
    for delivery to retry or give up on."""
    thread = entry.thread
    try:
        await client.chat_postEphemeral(
            channel=thread.channel, user=entry.user, text=entry.text, thread_ts=thread.thread_ts
        )
        return Delivered(thread.channel, "")
    except Exception as exc:
        if slack_error(exc) not in CLOSED | {"user_not_in_channel"}:
            raise delivery_error(exc) from exc
    where = join(literal("About a request in "), channel_link(thread.channel), literal(": "))
    try:
        # A user id as the channel: their DM with the app (the Messages tab).
        answer = await client.chat_postMessage(channel=entry.user, text=f"{where}{entry.text}")
    except Exception as exc:
        raise delivery_error(exc) from exc
    return Delivered(str(answer["channel"]), str(answer["ts"]))
