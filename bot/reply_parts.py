"""How a reply is cut into Slack messages.

A message holds at most ``MESSAGE_LIMIT`` characters of signoff's (Slack takes 40,000;
shorter ones keep a thread readable). A reply of up to ``MAX_PARTS`` messages is posted as
those; a longer one as its start (``attached_start``) with the whole answer attached as a
file, unless the app may not upload files: then it is posted as its first ``MAX_SPLIT``
parts at most (``cut_parts``), the last saying how much was left out and where the whole
answer is (``signoff show``): Slack takes about a message a second, and a 400,000-character
answer as 115 messages flooded the thread for two minutes.
"""

from __future__ import annotations

from .slack_text import whole_cut

__all__ = [
    "MAX_PARTS",
    "MAX_SPLIT",
    "MESSAGE_LIMIT",
    "attached_start",
    "cut_parts",
    "split_message",
]

MESSAGE_LIMIT = 3500
MAX_PARTS = 4
MAX_SPLIT = 10  # 35,000 characters: about what one Slack message (40,000) may hold
ATTACHED = "\n… (the full answer is attached)"


def _open_fence(head: str) -> bool:
    return head.count("```") % 2 == 1


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split rendered text at paragraph, then line, then hard boundaries (never inside an
    entity or a mention); code fences stay balanced."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n\n", 0, limit)
        if cut < limit // 2:
            cut = rest.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = whole_cut(rest, limit)
        if cut < limit // 2:  # only a freak run of backticks: cut in it, never in an entity
            # (``or limit``: rendered text closes each token soon, but never loop on 0.)
            cut = whole_cut(rest, limit, backticks=False) or limit
        head, rest = rest[:cut], rest[cut:].lstrip("\n")
        if _open_fence(head):
            head, rest = head + "\n```", "```\n" + rest
        parts.append(head)
    parts.append(rest)
    return [p for p in parts if p.strip()] or [""]


def attached_start(parts: list[str]) -> str:
    """What the thread shows of a reply whose whole text is attached as a file: its start,
    cut whole, with the code block it may end in closed."""
    head = parts[0][: whole_cut(parts[0], 1000)]
    return head + ("\n```" if _open_fence(head) else "") + ATTACHED


def cut_parts(parts: list[str], *, session_id: str) -> list[str]:
    """The parts of a reply posted without its file: at most ``MAX_SPLIT``, the last one
    ending with what was left out (counted as the thread would have shown it)."""
    if len(parts) <= MAX_SPLIT:
        return parts
    left = sum(len(part) for part in parts[MAX_SPLIT:])
    note = (
        f"\n\n… (the answer is cut here: {left:,} more characters were left out, as it "
        f"could not be attached as a file; `signoff show {session_id}` prints it whole)"
    )
    return [*parts[: MAX_SPLIT - 1], parts[MAX_SPLIT - 1] + note]
