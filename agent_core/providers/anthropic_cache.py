"""Where a Messages API request marks its prompt-cache breakpoints.

Every call of a thread sends the tools, the system prompt and the conversation so far
(``window.recent``) again, and the API bills all of it as input, unless a prefix is
marked with ``cache_control``: a later request that starts with the same bytes up to a
marked block reads them from the cache at a tenth of the input price, having paid 1.25x
for the write (the 5-minute cache; the API refreshes it on each read). The API renders
tools, then system, then messages, allows at most 4 breakpoints, and silently caches
nothing below a model's minimum length (512-4,096 tokens), so a mark costs nothing there.

signoff marks at most 3:

- the system prompt (or, without one, the last tool): tools and system are the same in
  every thread, so every call reads them once one has written them;
- the last block of the conversation: what the next call of the thread starts with
  (its reply and the answer to it come after), so that call reads all this one sent;
- the last block of the message three from the end: the end of the previous call's
  conversation when this call adds a reply and an answer to it, so that call's cache is
  read here even when the reply and answer are more blocks than the API looks back over
  (20) from the last mark (a reply of ten tool calls and their results).

The window cuts the front of a long conversation a quarter of its limit at a time, and
between cuts the note and the messages it sends start the same, so the marks keep being
read; a cut changes the start, and the call after it writes the conversation anew.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["mark_cache_points"]

if TYPE_CHECKING:
    from anthropic.types import (
        CacheControlEphemeralParam,
        MessageParam,
        TextBlockParam,
        ToolParam,
    )


def _ephemeral() -> CacheControlEphemeralParam:
    # The default 5-minute cache: a 1-hour one costs 2x the input price to write.
    return {"type": "ephemeral"}


def _mark(block: Any) -> None:
    block["cache_control"] = _ephemeral()


def mark_cache_points(
    *, system: str, tools: list[ToolParam], messages: list[MessageParam]
) -> list[TextBlockParam] | None:
    """Mark ``tools`` and ``messages`` in place; the system prompt as marked blocks (None
    when there is no system prompt)."""
    system_blocks: list[TextBlockParam] | None = None
    if system:
        system_blocks = [{"type": "text", "text": system, "cache_control": _ephemeral()}]
    elif tools:
        _mark(tools[-1])
    for index in {len(messages) - 1, len(messages) - 3}:
        if index < 0:
            continue
        content = messages[index]["content"]
        if isinstance(content, list) and content:
            _mark(content[-1])
    return system_blocks
