"""Waiting for messages: tests block until the bot has said something that matches."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable, Iterable

from localslack.records import JSON

__all__ = ["MessageWatch", "Predicate", "message_filter"]

Predicate = Callable[[JSON], bool]


def message_filter(
    *,
    channel: str | None = None,
    thread_ts: str | None = None,
    text_contains: str | None = None,
    from_bot: bool | None = None,
    user: str | None = None,
    after_ts: str | None = None,
) -> Predicate:
    """Build a predicate from simple filters. `thread_ts` matches replies in that thread (not the
    parent itself); `after_ts` compares ts strings, which sort correctly (fixed-width format)."""

    def matches(message: JSON) -> bool:
        if channel is not None and message.get("channel") != channel:
            return False
        if thread_ts is not None and (
            message.get("thread_ts") != thread_ts or message.get("ts") == thread_ts
        ):
            return False
        if text_contains is not None and text_contains not in str(message.get("text", "")):
            return False
        if from_bot is not None and ("bot_id" in message) != from_bot:
            return False
        if user is not None and message.get("user") != user:
            return False
        return after_ts is None or str(message.get("ts", "")) > after_ts

    return matches


class MessageWatch:
    """Fan-out of message changes to pending waiters; every waiter sees a deep copy."""

    def __init__(self) -> None:
        self._waiters: list[tuple[Predicate, asyncio.Future[JSON]]] = []

    def publish(self, message: JSON) -> None:
        still_waiting = []
        for predicate, future in self._waiters:
            if future.done():
                continue
            try:
                matched = predicate(message)
            except Exception as exc:
                # A broken predicate is the waiting test's problem, not the poster's.
                future.set_exception(exc)
                continue
            if matched:
                future.set_result(copy.deepcopy(message))
            else:
                still_waiting.append((predicate, future))
        self._waiters = still_waiting

    async def wait(self, predicate: Predicate, *, existing: Iterable[JSON]) -> JSON:
        """Callers bound the wait with asyncio.timeout()."""
        for message in existing:
            if predicate(message):
                return copy.deepcopy(message)
        future: asyncio.Future[JSON] = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, future))
        try:
            return await future
        finally:
            if not future.done():
                future.cancel()

    def cancel_all(self) -> None:
        for _, future in self._waiters:
            future.cancel()
        self._waiters.clear()
