"""The most of one answer signoff reads: a bound for a server that ignores ``max_tokens``.

A streamed answer grows until its server ends it. One that never does (a compatible
server or a gateway that ignores the output limit, a model looping) was bounded only by
the thread's stop button and the session's time budget: every piece is progress, so the
stall guard never fires, and the answer grew in memory, in the live view and then in the
thread. An answer is cut once what arrived of it (text, tool input, thinking) passes
``ANSWER_CHARS_PER_TOKEN`` characters a token of the output limit: a token is about 4
characters of English or JSON, so no answer within the limit comes near it.
"""

from __future__ import annotations

import logging
from typing import Any

from ..model import ModelReply
from .token_counts import CHARS_PER_TOKEN

__all__ = ["ANSWER_CHARS_PER_TOKEN", "answer_cap", "cut_overlong"]

log = logging.getLogger("agent_core.providers")

ANSWER_CHARS_PER_TOKEN = 10


def answer_cap(max_tokens: int) -> int:
    """The most characters of one answer read, for an output limit of ``max_tokens``."""
    return max_tokens * ANSWER_CHARS_PER_TOKEN


def cut_overlong(reply: ModelReply, *, received: int, model: str, max_tokens: int) -> ModelReply:
    """``reply`` of ``model`` as cut at the cap after ``received`` characters: ``overlong``
    (told in the thread as cut off, its calls not run), its output counted as at least
    what arrived, since the API's final count never came. A reply with no usage at all
    keeps the budgets' estimate, which already counts what arrived."""
    log.warning(
        "%s: the answer went on past %d characters (output limit %d tokens); cut off",
        model,
        answer_cap(max_tokens),
        max_tokens,
    )
    update: dict[str, Any] = {"stop_reason": "overlong"}
    if reply.usage.total:
        got = -(-received // CHARS_PER_TOKEN)
        output = max(reply.usage.output_tokens, got)
        update["usage"] = reply.usage.model_copy(update={"output_tokens": output})
    return reply.model_copy(update=update)
