"""The arguments of a call as a card shows them: fields first, the JSON when they do not fit.

Each argument is a field (``*service*`` over `` `api` ``), as long as there are at most ten
of them (Slack's limit for a section) and each value is short and on one line. When any
value is long or multi-line, or there are more arguments than fields, the
whole call follows as JSON in a code block (truncated; the full call is in the trace), so
the approver never reads a clipped value without the whole one below it.

Argument names and values come from the model: every one is escaped, and shown
``visible``: a value with a character that draws nothing or turns the rest around shows
its escape in the field and is not "whole" there, so the JSON below shows it too; so
does a value the field draws otherwise (its spaces collapsed, a backtick as "ˋ").
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from approvals import Capsule

from .drawn_text import visible
from .slack_text import (
    Mrkdwn,
    code_block,
    escape,
    escaped_fit,
    join,
    literal,
    mrkdwn_object,
)

__all__ = ["argument_fields", "arguments_json", "hints", "json_lookalike"]

MAX_FIELDS = 10  # per section, Slack's limit
_FENCE = re.compile("`{3,}")
_ESCAPE = re.compile(r"\\u[0-9A-Fa-f]{4}")
_NAME_LIMIT = 100
_VALUE_LIMIT = 150  # longer values are clipped in their field and shown whole below
_JSON_LIMIT = 1500

_HINTS = {
    "readOnlyHint": ("read-only", "not read-only"),
    "destructiveHint": ("destructive", "not destructive"),
    "idempotentHint": ("idempotent", "not idempotent"),
    "openWorldHint": ("open world", "closed world"),
}


def _shown(value: Any) -> tuple[str, bool]:
    """The value as one line of inline code, and whether that is all of it."""
    raw = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = visible(raw)
    line = " ".join(text.split()) if isinstance(value, str) else text.replace("\n", " ")
    if len(line) > _VALUE_LIMIT:
        line = line[: _VALUE_LIMIT - 1] + "…"
    # A backtick would end the inline code early; an empty value would show nothing.
    shown = line.replace("`", "ˋ")
    # Whole only when the field draws the value itself: nothing escaped, clipped, joined
    # into one line, no space collapsed ("api " showed as `api`) and no backtick replaced
    # (`ˋidˋ` is what a shell's `id` and a harmless modifier letter both drew); nor a
    # string drawn as another JSON value (the string "null" and null both drew `null`),
    # nor one holding an escape as typed: "\\u202e" is how the field draws the character.
    whole = shown == raw
    if whole and isinstance(value, str):
        whole = not (json_lookalike(value) or _ESCAPE.search(value))
    return (shown or " "), whole


def json_lookalike(text: str) -> bool:
    """Does ``text``, drawn bare, read as a JSON value that is no string?"""
    try:
        return not isinstance(json.loads(text), str)
    except ValueError:  # JSONDecodeError, and a number too long to convert
        return False


def argument_fields(arguments: Mapping[str, Any]) -> tuple[list[dict[str, Any]], bool]:
    """Section fields for the arguments, and True when they show every value whole."""
    items = list(arguments.items())
    room = MAX_FIELDS if len(items) <= MAX_FIELDS else MAX_FIELDS - 1
    fields: list[dict[str, Any]] = []
    complete = len(items) <= MAX_FIELDS
    for key, value in items[:room]:
        line, whole = _shown(value)
        name = visible(str(key))
        # A name clipped is not whole either: two alike that far would read the same.
        complete = complete and whole and name == key and len(name) <= _NAME_LIMIT
        text = join(
            literal("*"), escape(name[:_NAME_LIMIT]), literal("*\n`"), escape(line), literal("`")
        )
        fields.append(mrkdwn_object(text))
    if len(items) > room:
        more = literal(f"*…*\n{len(items) - room} more (all below)")
        fields.append(mrkdwn_object(more))
    return fields, complete


def arguments_json(arguments: Mapping[str, Any]) -> Mrkdwn:
    """The whole call as JSON in a code block, truncated past what a section holds.

    Counted escaped, as Slack counts it (``&`` is five characters): a section clipping it
    instead would cut off the closing fence, and the rest would read as formatting."""
    shown = visible(json.dumps(dict(arguments), indent=1, ensure_ascii=False, sort_keys=True))
    # A fence would end the code block (``code_block`` draws it "ˋˋˋ", as those letters
    # themselves are): as its JSON escape, the JSON still reads back as the call.
    shown = _FENCE.sub(lambda run: "\\u0060" * len(run[0]), shown)
    fits = escaped_fit(shown, _JSON_LIMIT)
    if fits < len(shown):
        rest = len(shown) - fits
        shown = shown[:fits] + f"\n… ({rest} more characters; full call in the trace)"
    return code_block(shown)


def hints(capsule: Capsule) -> Mrkdwn:
    """The tool's own hints (an MCP server's annotations): shown, never what gates it."""
    words = [
        _HINTS[key][0 if value else 1]
        for key, value in capsule.tool_annotations.items()
        if key in _HINTS and isinstance(value, bool)
    ]
    return literal(f"Tool says (unverified): {', '.join(words)}" if words else "")
