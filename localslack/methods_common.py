"""Checks shared by Web API methods: scopes, required arguments, channel access and message
content validation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from localslack.blockkit import validate_blocks
from localslack.errors import SlackError
from localslack.records import Channel
from localslack.runtime import Runtime
from localslack.webapi import Args

__all__ = [
    "MAX_TEXT_LENGTH",
    "Content",
    "content",
    "history_scope",
    "invalid_arguments",
    "require_args",
    "require_channel",
    "require_member",
    "require_scope",
    "require_writable",
]

MAX_TEXT_LENGTH = 40_000


def missing_scope(rt: Runtime, needed: str) -> SlackError:
    return SlackError(
        "missing_scope", extra={"needed": needed, "provided": ",".join(rt.config.scopes)}
    )


def require_scope(rt: Runtime, *any_of: str) -> None:
    """Slack's `missing_scope` (with `needed` and `provided`) unless one of the scopes is held."""
    if any_of and not any(scope in rt.config.scopes for scope in any_of):
        raise missing_scope(rt, any_of[0])


def history_scope(channel: Channel) -> str:
    """The scope reading a conversation's messages takes."""
    if channel.is_im:
        return "im:history"
    if channel.is_mpim:
        return "mpim:history"
    return "groups:history" if channel.is_private else "channels:history"


def invalid_arguments(*messages: str) -> SlackError:
    """Slack's answer to arguments that break a method's schema."""
    return SlackError(
        "invalid_arguments", extra={"response_metadata": {"messages": list(messages)}}
    )


def require_args(args: Args, *names: str) -> None:
    missing = [n for n in names if args.get(n) is None]
    if missing:
        raise invalid_arguments(*(f"[ERROR] missing required field: {n}" for n in missing))


def require_channel(rt: Runtime, args: Args, *, key: str = "channel") -> Channel:
    channel = rt.workspace.channel(args.text(key))
    # A private channel the bot is not in does not exist as far as the bot can tell.
    if channel is None or (channel.is_private and rt.config.bot.user_id not in channel.members):
        raise SlackError("channel_not_found")
    return channel


def require_member(rt: Runtime, channel: Channel, *, posting: bool = False) -> None:
    if rt.config.bot.user_id in channel.members:
        if posting and channel.is_im and rt.config.messages_tab == "off":
            raise SlackError("messages_tab_disabled")
        return
    if posting and "chat:write.public" in rt.config.scopes and not channel.is_private:
        return
    raise SlackError("not_in_channel")


def require_writable(channel: Channel, *, updating: bool = False) -> None:
    """An archived channel takes no new message (``is_archived``) and no edit of an old
    one (chat.update's ``is_inactive``), as Slack's reference names them."""
    if channel.is_archived:
        raise SlackError("is_inactive" if updating else "is_archived")


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
