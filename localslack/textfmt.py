"""Slack's text conventions for human-typed messages: entity escaping and rich_text blocks."""

from __future__ import annotations

import html
import re

from localslack.records import JSON

__all__ = ["escape_user_text", "mentioned_users", "rich_text_blocks"]

# Markup a Slack client produces from its composer; everything else the user typed is escaped.
_ENTITY = re.compile(
    r"<(?:"
    r"@(?P<user>[UW][A-Z0-9]+)(?:\|[^<>]*)?"
    r"|#(?P<channel>C[A-Z0-9]+)(?:\|[^<>]*)?"
    r"|!(?P<special>here|channel|everyone)(?:\|[^<>]*)?"
    r"|!subteam\^(?P<subteam>S[A-Z0-9]+)(?:\|[^<>]*)?"
    r"|(?P<url>(?:https?|mailto):[^<>|\s]+)(?:\|(?P<label>[^<>]*))?"
    r")>"
)


def _escape(fragment: str) -> str:
    return fragment.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_user_text(text: str) -> str:
    """Escape `&`, `<`, `>` as Slack does for typed text, keeping mention/link markup intact."""
    out: list[str] = []
    pos = 0
    for match in _ENTITY.finditer(text):
        out.append(_escape(text[pos : match.start()]))
        out.append(match.group(0))
        pos = match.end()
    out.append(_escape(text[pos:]))
    return "".join(out)


def mentioned_users(text: str) -> list[str]:
    return [m.group("user") for m in _ENTITY.finditer(text) if m.group("user")]


def _element(match: re.Match[str]) -> JSON:
    if match.group("user"):
        return {"type": "user", "user_id": match.group("user")}
    if match.group("channel"):
        return {"type": "channel", "channel_id": match.group("channel")}
    if match.group("special"):
        return {"type": "broadcast", "range": match.group("special")}
    if match.group("subteam"):
        return {"type": "usergroup", "usergroup_id": match.group("subteam")}
    link: JSON = {"type": "link", "url": match.group("url")}
    if match.group("label"):
        link["text"] = html.unescape(match.group("label"))
    return link


def rich_text_blocks(escaped_text: str, *, block_id: str) -> list[JSON]:
    """The rich_text block a Slack client attaches to a typed message (text elements hold the
    unescaped characters; entities become typed elements)."""
    elements: list[JSON] = []
    pos = 0
    for match in _ENTITY.finditer(escaped_text):
        if match.start() > pos:
            elements.append(
                {"type": "text", "text": html.unescape(escaped_text[pos : match.start()])}
            )
        elements.append(_element(match))
        pos = match.end()
    if pos < len(escaped_text):
        elements.append({"type": "text", "text": html.unescape(escaped_text[pos:])})
    return [
        {
            "type": "rich_text",
            "block_id": block_id,
            "elements": [{"type": "rich_text_section", "elements": elements}],
        }
    ]
