"""The ack's answer to a form or a slash command that signoff could not read.

Acked empty, a modal's submission closes the modal, and the person believes they have
denied or approved; a command vanishes without a word. So the ack answers: in the form, a
field holding text that is not valid Unicode (JSON can carry a lone surrogate, which no
file, log or Slack post can) is named, to be typed again, and a form unreadable for any
other reason is replaced by one that says nothing was recorded and where it was kept; a
command is answered, to its sender only, with the same. (A click, whose ack Slack shows
nothing for, is told after it: ``unreadable_notices``.)
"""

from __future__ import annotations

import re
from typing import Any

from .slack_text import Mrkdwn, literal, mrkdwn_object

__all__ = ["NOT_TEXT", "notice_view", "unreadable_answer"]

NOT_TEXT = "This has a character that is not valid Unicode, so it could not be read: type it again."
_SURROGATE = re.compile("[\ud800-\udfff]")


def notice_view(text: Mrkdwn) -> dict[str, Any]:
    """A modal that only says ``text`` (built with ``slack_text``'s helpers)."""
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "signoff"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [{"type": "section", "text": mrkdwn_object(text)}],
    }


def unreadable_answer(kind: str, payload: object, *, kept: str) -> dict[str, Any] | None:
    """The ack's body for an interaction (``kind``: the envelope's type) refused before any
    listener (None: an empty ack does); ``kept``: its quarantine record's id ("" when it
    could not be kept)."""
    if not isinstance(payload, dict):
        return None  # nothing shows it came from Slack, nor for whom
    where = f" It was kept for an operator as {kept} (`signoff quarantine {kept}`)." if kept else ""
    if kind == "slash_commands":
        text = f"signoff could not read this command, so it did nothing.{where}"
        return {"response_type": "ephemeral", "text": literal(text)}
    if kind != "interactive" or payload.get("type") != "view_submission":
        return None
    fields = _not_text(payload.get("view"))
    if fields:
        return {"response_action": "errors", "errors": dict.fromkeys(fields, NOT_TEXT)}
    text = f"signoff could not read this form, so nothing was recorded.{where}"
    return {"response_action": "update", "view": notice_view(literal(text))}


def _not_text(view: object) -> list[str]:
    """The view's input blocks whose submitted value holds a lone surrogate (Slack shows
    an error only on an input block the view has)."""
    if not isinstance(view, dict):
        return []
    blocks = view.get("blocks")
    inputs = {
        b["block_id"]
        for b in (blocks if isinstance(blocks, list) else [])
        if isinstance(b, dict) and b.get("type") == "input" and isinstance(b.get("block_id"), str)
    }
    state = view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    if not isinstance(values, dict):
        return []
    return [
        block_id
        for block_id, given in values.items()
        if isinstance(block_id, str) and block_id in inputs and _holds_surrogate(given)
    ]


def _holds_surrogate(value: object) -> bool:
    # A loop, not recursion: JSON nests deeper than Python's stack, and a RecursionError
    # here would leave the envelope unacked.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str) and _SURROGATE.search(item) is not None:
            return True
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False
