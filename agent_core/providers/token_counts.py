"""Reading a token count from a provider's usage object, whatever the SDK gave, and
estimating one where the provider sent none."""

from __future__ import annotations

import json
from typing import Any

from ..messages import Usage
from ..model import ModelReply

__all__ = ["estimated_usage", "token_count"]

CHARS_PER_TOKEN = 4  # the usual rule of thumb for English text and JSON


def token_count(usage: object, field: str) -> int:
    """``usage.field`` as a count: 0 when absent or not an int (``usage`` may be None),
    never below 0, as budgets add them up."""
    value = getattr(usage, field, None)
    return max(0, value) if isinstance(value, int) else 0


def estimated_usage(body: dict[str, Any], reply: ModelReply, *, thought: int = 0) -> Usage:
    """About what a call cost when its provider did not say: the request's JSON in, the
    reply's text and calls out, with the ``thought`` characters of its thinking, which
    the reply does not keep and the provider bills as output; rounded up (an empty reply
    still read its request)."""
    sent = len(json.dumps(body, ensure_ascii=False))
    calls = sum(
        len(c.name) + len(c.arguments if isinstance(c.arguments, str) else json.dumps(c.arguments))
        for c in reply.tool_calls
    )
    got = thought + len(reply.text) + calls
    return Usage(input_tokens=-(-sent // CHARS_PER_TOKEN), output_tokens=-(-got // CHARS_PER_TOKEN))
