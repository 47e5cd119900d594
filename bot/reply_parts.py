"""How a reply is cut into Slack messages.

A message holds at most ``MESSAGE_LIMIT`` characters of signoff's (Slack takes 40,000;
shorter ones keep a thread readable). A reply of up to ``MAX_PARTS`` messages is posted as
those; a longer one as its start (``attached_start``) with the whole answer attached as a
file, unless the app may not upload files: then it is posted as all its parts.
"""

from __future__ import annotations

__all__ = ["MAX_PARTS", "MESSAGE_LIMIT", "attached_start", "split_message"]

MESSAGE_LIMIT = 3500
MAX_PARTS = 4
ATTACHED = "\n… (the full answer is attached)"


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


def attached_start(parts: list[str]) -> str:
    """What the thread shows of a reply whose whole text is attached as a file."""
    return parts[0][:1000] + ATTACHED
