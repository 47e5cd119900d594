"""The Slack calls of outbox delivery, their failures as ``DeliveryError`` (``slack_surface``).

Delivery decides what to retry from a ``DeliveryError`` alone: a call whose entry is in
the thread in part already (``started``) says so (``look_first``), so the retry looks
before it posts. A thread is read with its metadata to adopt what already landed; one
Slack does not have yet (``thread_not_found``) holds nothing to adopt.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from slack_sdk.web.async_client import AsyncWebClient

from sessions import ThreadKey

from .message_metadata import thread_messages
from .slack_errors import delivery_error, look_first, slack_error

__all__ = ["delivery_call", "guarded", "thread_read"]

T = TypeVar("T")


async def delivery_call(
    client: AsyncWebClient, method: str, *, started: bool = False, **kwargs: Any
) -> Any:
    """``client.<method>(**kwargs)``; ``started``: part of the entry is in the thread
    already (see ``look_first``)."""
    try:
        return await getattr(client, method)(**kwargs)
    except Exception as exc:
        error = delivery_error(exc)
        raise (look_first(error) if started else error) from exc


async def guarded(work: Awaitable[T]) -> T:
    """``work``'s result, its failure as a ``DeliveryError``."""
    try:
        return await work
    except Exception as exc:
        raise delivery_error(exc) from exc


async def thread_read(client: AsyncWebClient, thread: ThreadKey) -> list[dict[str, Any]]:
    """The thread's messages with their metadata (to adopt what already landed)."""
    messages: list[dict[str, Any]] = []
    try:
        async for message in thread_messages(client, thread):
            messages.append(message)
    except Exception as exc:
        if slack_error(exc) == "thread_not_found":
            return messages
        raise delivery_error(exc) from exc
    return messages
