"""How much of a long thread a model call sends: the latest part that fits.

A thread's transcript grows with every turn (each child session continues its parent's
lines) and every call sends it. An incident thread that runs for days would outgrow the
model's context window (a 400 on every later mention, for good) and, long before that,
the per-session token budget. So a call sends the latest messages that fit
``ModelSettings.history_chars`` (about 4 characters a token), from a person's message on,
after a note saying how many were left out; the part left out grows in steps, so the
start of what is sent stays put across many calls (prompt caches match by prefix). The stored transcript keeps everything, and
traces show it all; only what the model is sent is cut.

A cut falls only before a person's message, so a tool call and its result stay together;
a result whose call was left out (a decision that came after later messages) is kept as
text by ``transcript.turns``. The current request is always sent, even when it alone is
over the limit.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from ..messages import AssistantMessage, EventMessage, Message, ToolResultMessage, UserMessage

__all__ = ["recent", "size"]


def size(message: Message) -> int:
    """About how many characters ``message`` takes in a request."""
    if isinstance(message, AssistantMessage):
        calls = sum(
            len(c.name)
            + len(c.raw_arguments or "")
            + (len(json.dumps(c.arguments)) if c.arguments else 0)
            for c in message.tool_calls
        )
        return len(message.text) + calls
    if isinstance(message, ToolResultMessage):
        return len(message.name) + len(message.content)
    return len(message.text)


def recent(messages: Sequence[Message], *, budget_chars: int) -> Sequence[Message]:
    """All of ``messages`` when they fit in ``budget_chars``; else a note, then the rest
    from a person's message on, the oldest left out in steps of a quarter of the budget."""
    total = sum(size(m) for m in messages)
    if total <= budget_chars:
        return messages
    # What is left out grows a quarter of the budget at a time, not a turn at a time: the
    # start of what is sent stays the same for many calls, so a provider's prompt cache
    # (OpenAI's is automatic, by prefix) keeps serving it. What is sent: 3/4 to all of it.
    step = max(1, budget_chars // 4)
    left_out = -(-(total - budget_chars) // step) * step
    cut, dropped = None, 0
    for index, message in enumerate(messages):
        if isinstance(message, UserMessage) and index > 0:
            cut = index
            if dropped >= left_out:
                break
        dropped += size(message)
    if cut is None:
        return messages  # no person's message to start from but the first
    note = EventMessage(
        text=f"({cut} earlier messages of this thread are left out here, to keep within "
        "the history a model call is sent; people can still read them in the thread.)"
    )
    return [note, *messages[cut:]]
