"""signoff's mark on its messages: the outbox entry each one delivers, in message metadata.

Every message signoff posts carries ``{"event_type": METADATA_TYPE, "event_payload":
{"entry": <outbox entry id>, …}}`` (a reply's ``part``, a card's ``approval``, a pointer's
``pointer``). Reading a thread with it (``thread_messages``) is how an attempt that may have
landed is found and adopted instead of posted again, and how a stream that never learnt its
``ts`` is told from everything else.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from sessions import ThreadKey

__all__ = ["METADATA_TYPE", "metadata", "ours", "thread_messages"]

METADATA_TYPE = "signoff_outbox"


def metadata(entry_id: str, **extra: Any) -> dict[str, Any]:
    """The metadata of a message delivering outbox entry ``entry_id``."""
    return {"event_type": METADATA_TYPE, "event_payload": {"entry": entry_id, **extra}}


def ours(message: dict[str, Any]) -> dict[str, Any]:
    """The payload signoff put on ``message``, or {} for anyone else's (or none)."""
    meta = message.get("metadata") or {}
    payload = meta.get("event_payload") if meta.get("event_type") == METADATA_TYPE else None
    return payload if isinstance(payload, dict) else {}


async def thread_messages(
    client: AsyncWebClient, thread: ThreadKey
) -> AsyncIterator[dict[str, Any]]:
    """The thread's messages with their metadata, page by page (Slack's errors as raised)."""
    cursor = ""
    while True:
        page = await client.conversations_replies(
            channel=thread.channel,
            ts=thread.thread_ts,
            include_all_metadata=True,
            limit=200,
            cursor=cursor or None,
        )
        for message in page.get("messages") or []:
            yield message
        cursor = ((page.get("response_metadata") or {}).get("next_cursor")) or ""
        if not cursor:
            return
