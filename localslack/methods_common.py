"""Checks shared by Web API methods: channel access and message content validation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from localslack.blockkit import validate_blocks
from localslack.errors import SlackError
from localslack.records import Channel
from localslack.runtime import Runtime
from localslack.webapi import Args

__all__ = ["MAX_TEXT_LENGTH", "Content", "content", "require_channel", "require_member"]

MAX_TEXT_LENGTH = 40_000


def require_channel(rt: Runtime, args: Args, *, key: str = "channel") -> Channel:
    channel = rt.workspace.channel(args.text(key))
    # A private channel the bot is not in does not exist as far as the bot can tell.
    if channel is None or (channel.is_private and rt.config.bot.user_id not in channel.members):
        raise SlackError("channel_not_found")
    return channel


def require_member(rt: Runtime, channel: Channel, *, posting: bool = False) -> None:
    if rt.config.bot.user_id in channel.members:
        return
    if posting and "chat:write.public" in rt.config.scopes and not channel.is_private:
        return
    raise SlackError("not_in_channel")


@dataclass(frozen=True)
class Content:
    text: str | None
    blocks: list[Any] | None
    attachments: list[Any] | None


def content(args: Args, *, required: bool = True) -> Content:
    """text/blocks/attachments validated as chat.postMessage does."""
    text = args.text("text")
    blocks = args.get("blocks")
    attachments = args.get("attachments")
    if blocks is not None and not isinstance(blocks, list):
        if blocks == "":
            blocks = None
        else:
            raise SlackError("invalid_blocks_format")
    if blocks is not None:
        errors = validate_blocks(blocks)
        if errors:
            raise SlackError("invalid_blocks", extra={"response_metadata": {"messages": errors}})
    if attachments is not None and not isinstance(attachments, list):
        if attachments == "":
            attachments = None
        else:
            raise SlackError("invalid_attachments")
    if text is not None and len(text) > MAX_TEXT_LENGTH:
        raise SlackError("msg_too_long")
    if required and not (text or blocks or attachments):
        raise SlackError("no_text")
    return Content(text=text, blocks=blocks, attachments=attachments)
