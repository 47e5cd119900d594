"""The engine's Surface on Slack's Web API.

Replies always go to the originating thread (``thread_ts`` as a string). Long answers are
split at paragraph boundaries into a few messages, or uploaded as a file when even that
would flood the thread — never rejected. Cards are posted with ``chat.postMessage`` and
updated days later with ``chat.update`` on the stored channel and ts, because a
``response_url`` only lives for 30 minutes.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from approvals import Capsule, CardRef, Decision
from sessions import ThreadKey

from .cards import card_blocks, fallback_text

__all__ = ["SlackSurface", "split_message"]

log = logging.getLogger("signoff.slack")

MESSAGE_LIMIT = 3500
MAX_PARTS = 4


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split at paragraph, then line, then hard boundaries; code fences stay balanced."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n\n", 0, limit)
        if cut < limit // 2:
            cut = rest.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = limit
        head, rest = rest[:cut], rest[cut:].lstrip("\n")
        if head.count("```") % 2:
            head, rest = head + "\n```", "```\n" + rest
        parts.append(head)
    parts.append(rest)
    return [p for p in parts if p.strip()] or [""]


class SlackSurface:
    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def reply(self, thread: ThreadKey, text: str) -> None:
        parts = split_message(text)
        if len(parts) > MAX_PARTS:
            await self.upload(thread, text, title="Full answer", comment=parts[0][:1000] + "\n…")
            return
        for part in parts:
            await self.client.chat_postMessage(
                channel=thread.channel, thread_ts=str(thread.thread_ts), text=part, mrkdwn=True
            )

    async def upload(self, thread: ThreadKey, content: str, *, title: str, comment: str) -> None:
        await self.client.files_upload_v2(
            channel=thread.channel,
            thread_ts=str(thread.thread_ts),
            content=content,
            filename=f"{title.lower().replace(' ', '-')}.txt",
            title=title,
            initial_comment=comment,
        )

    async def post_card(self, capsule: Capsule) -> CardRef | None:
        response = await self.client.chat_postMessage(
            channel=capsule.thread.channel,
            thread_ts=str(capsule.thread.thread_ts),
            text=fallback_text(capsule),
            blocks=card_blocks(capsule),
        )
        return CardRef(
            approval_id=capsule.id,
            channel=str(response["channel"]),
            ts=str(response["ts"]),
            args_sha256=capsule.args_sha256,
        )

    async def update_card(self, capsule: Capsule, decision: Decision, card: CardRef) -> None:
        await self.client.chat_update(
            channel=card.channel,
            ts=card.ts,
            text=fallback_text(capsule, decision),
            blocks=card_blocks(capsule, decision),
        )

    async def show_votes(self, capsule: Capsule, card: CardRef, votes: int) -> None:
        await self.client.chat_update(
            channel=card.channel,
            ts=card.ts,
            text=fallback_text(capsule),
            blocks=card_blocks(capsule, votes=votes),
        )

    async def ephemeral(
        self, *, channel: str, user: str, text: str, thread_ts: str | None = None
    ) -> None:
        kwargs: dict[str, Any] = {"channel": channel, "user": user, "text": text}
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        try:
            await self.client.chat_postEphemeral(**kwargs)
        except SlackApiError as exc:
            log.warning("could not tell %s ephemerally: %s", user, exc.response.get("error"))

    async def working(self, *, channel: str, ts: str) -> None:
        """Show that a message was taken: a reaction, best effort."""
        try:
            await self.client.reactions_add(channel=channel, timestamp=ts, name="eyes")
        except SlackApiError as exc:
            if exc.response.get("error") != "already_reacted":
                log.info("could not react to %s/%s: %s", channel, ts, exc.response.get("error"))
