"""Cards posted away from the thread that asked: requests from direct messages.

A direct message with signoff has no approvers in it, so a gated call asked there is
decided in ``SIGNOFF_APPROVALS_CHANNEL`` (the capsule's ``card_channel``). The card is a
new message in that channel — approvers discuss it in its own thread — with a link back
to the direct message; the direct message's thread gets a short pointer with a link to
the card. After the decision the conversation goes on in the direct message, as always.

Both posts carry their outbox entry in message metadata. When delivery says an earlier
attempt may have landed, the channel (``conversations.history`` since the request was
made) and the direct message's thread are read first, and only what is missing is
posted. Links come from ``chat.getPermalink``; one that cannot be had is left out, never
a reason to fail the delivery.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from agent_core.recent_keys import RecentKeys
from agent_core.surface import CardView, Delivered, DeliveryError
from approvals import Capsule
from sessions import OutboxEntry

from .card_unreachable import tell_refused
from .cards import card_blocks, fallback_text
from .message_metadata import metadata, ours, thread_messages
from .slack_errors import delivery_error, look_first
from .slack_text import channel_link, escape, join, literal, parse_utc

__all__ = ["show_routed_card"]

log = logging.getLogger("signoff.slack")

# A card is looked for from a little before its request was made (clocks differ).
_LOOK_BACK_S = 120


async def _call(call: Awaitable[Any]) -> Any:
    try:
        return await call
    except Exception as exc:
        raise delivery_error(exc) from exc


async def _permalink(client: AsyncWebClient, channel: str, ts: str) -> str | None:
    try:
        link = (await client.chat_getPermalink(channel=channel, message_ts=ts)).get("permalink")
    except Exception as exc:  # a link is a courtesy
        log.info("no permalink for %s/%s: %s", channel, ts, exc)
        return None
    text = str(link or "")
    # It becomes <url|label> in mrkdwn: nothing in it may end the link early.
    ok = text.startswith(("https://", "http://")) and not any(c in text for c in "<>| \n")
    return text if ok else None


async def _find_card(client: AsyncWebClient, capsule: Capsule) -> str:
    """The ts of this approval's card in the channel, if an earlier attempt posted it."""
    oldest = parse_utc(capsule.created_at).timestamp() - _LOOK_BACK_S
    cursor = ""
    while True:
        page = await _call(
            client.conversations_history(
                channel=capsule.card_channel,
                oldest=f"{oldest:.6f}",
                include_all_metadata=True,
                limit=200,
                cursor=cursor or None,
            )
        )
        for message in page.get("messages") or []:
            if ours(message).get("approval") == capsule.id:
                return str(message["ts"])
        cursor = ((page.get("response_metadata") or {}).get("next_cursor")) or ""
        if not cursor:
            return ""


async def _pointer_landed(client: AsyncWebClient, capsule: Capsule) -> bool:
    try:
        async for message in thread_messages(client, capsule.thread):
            if ours(message).get("pointer") == capsule.id:
                return True
    except Exception as exc:
        raise delivery_error(exc) from exc
    return False


async def _point(client: AsyncWebClient, entry: OutboxEntry, capsule: Capsule, ts: str) -> None:
    """Tell the direct message where its request waits."""
    link = await _permalink(client, capsule.card_channel, ts)
    where = channel_link(capsule.card_channel)
    if link:
        where = join(where, literal(f" (<{link}|the card>)"))
    text = join(
        literal("⏳ `"),
        escape(capsule.tool),
        literal("` needs a person's approval: I asked in "),
        where,
        literal(". I will carry on here once someone decides."),
    )
    await _call(
        client.chat_postMessage(
            channel=capsule.thread.channel,
            thread_ts=str(capsule.thread.thread_ts),
            text=text,
            metadata=metadata(entry.id, pointer=capsule.id),
        )
    )


async def show_routed_card(
    client: AsyncWebClient,
    entry: OutboxEntry,
    view: CardView,
    *,
    check_first: bool,
    bot_user: str,
    told: RecentKeys[str],
) -> Delivered:
    """Post the card in the approvals channel (and the pointer), or update it in place."""
    capsule = view.capsule
    if view.card is not None and not view.changed:
        return Delivered(view.card.channel, view.card.ts)
    back = await _permalink(client, capsule.thread.channel, capsule.thread.thread_ts)
    text, blocks = fallback_text(view), card_blocks(view, asked_in=back, bot_user=bot_user)
    adopted = False
    channel = view.card.channel if view.card is not None else capsule.card_channel
    ts = view.card.ts if view.card is not None else ""
    try:
        if not ts and check_first:
            ts = await _find_card(client, capsule)
            adopted = bool(ts)
        if ts:
            # Updating to what is on disk is idempotent: a repeat shows the same card.
            await _call(client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks))
            if view.card is not None:
                return Delivered(channel, ts)
        else:
            response = await _call(
                client.chat_postMessage(
                    channel=capsule.card_channel,
                    text=text,
                    blocks=blocks,
                    metadata=metadata(entry.id, approval=capsule.id),
                )
            )
            ts = str(response["ts"])
    except DeliveryError as exc:
        if exc.permanent:
            await tell_refused(
                client, entry, view, error=exc.reason, posted=bool(ts), bot_user=bot_user, told=told
            )
        raise
    try:
        if not (check_first and await _pointer_landed(client, capsule)):
            await _point(client, entry, capsule, ts)
    except DeliveryError as exc:
        if not exc.permanent:  # tried again, looking first: the card is adopted
            raise look_first(exc) from exc
        # The card is where approvers look: failing its entry would leave it unrecorded,
        # and the next version would be posted beside it.
        log.warning("no pointer to %s in %s: %s", capsule.id, capsule.thread.label(), exc)
    return Delivered(capsule.card_channel, ts, adopted=adopted)
