"""What the hosting application tells the UI, and how typed text becomes Slack markup."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["UiOptions", "compose_text"]


@dataclass(frozen=True, kw_only=True)
class UiOptions:
    """What the page shows besides the workspace: links the hosting app adds (LocalSlack
    itself knows nothing about the app it fakes Slack for)."""

    title: str = "LocalSlack"
    # (label, url) pairs shown in the sidebar.
    links: tuple[tuple[str, str], ...] = ()
    # (label, url template) shown on messages in threads and on the app's messages;
    # the template may use {channel}, {ts} and {thread_ts}.
    message_link: tuple[str, str] | None = None
    default_user: str | None = None
    default_channel: str | None = None


_NAME = r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*"
_AT = re.compile(rf"(?<![\w<@|])@({_NAME})")
_HASH = re.compile(r"(?<![\w<#&|])#([a-z0-9_-]+)")


def compose_text(text: str, *, users: dict[str, str], channels: dict[str, str]) -> str:
    """What a Slack client sends for typed text: `@name` and `#channel` of known names become
    `<@U…>` and `<#C…>`. `users` and `channels` map lower-case names to ids."""

    def user(match: re.Match[str]) -> str:
        found = users.get(match.group(1).lower())
        return f"<@{found}>" if found else match.group(0)

    def channel(match: re.Match[str]) -> str:
        found = channels.get(match.group(1).lower())
        return f"<#{found}>" if found else match.group(0)

    return _HASH.sub(channel, _AT.sub(user, text))
