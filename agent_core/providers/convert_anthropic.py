"""Our transcript records to Anthropic Messages API params, and a reply back.

Request shape (after ``transcript.turns``):

- user-side turn -> one ``user`` message: its ``tool_result`` blocks first (the API
  requires them before any text), then one ``text`` block per user/event text;
  ``is_error: true`` on results whose status is not ``ok``;
- assistant turn -> one ``assistant`` message: a ``text`` block (if any), then one
  ``tool_use`` block per call; ``input`` is ``{}`` when the stored arguments did not
  parse (the matching result already carries the parse error);
- ids go through ``portable_id`` in both ``tool_use`` and ``tool_result``, stored tool
  names through ``portable_name``;
- a transcript that starts with an assistant turn gets a short user turn before it.

Reply: text blocks joined with blank lines (interleaving with tool calls is not kept:
our record stores text and calls separately), ``tool_use`` blocks as ``RawToolCall``
with the object input, usage with cache writes and reads counted apart from input.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from ..messages import Message, Usage
from ..model import ModelReply, RawToolCall, StopReason, ToolSpec
from .token_counts import token_count
from .transcript import AssistantTurn, portable_id, portable_name, result_content, turns

__all__ = [
    "RESUME_TEXT",
    "from_anthropic",
    "map_stop_reason",
    "thought_in",
    "to_anthropic",
    "tools_to_anthropic",
]

RESUME_TEXT = "(conversation resumed)"

_STOP: dict[str, StopReason] = {
    "end_turn": "end_turn",
    "stop_sequence": "end_turn",
    "tool_use": "tool_use",
    "max_tokens": "max_tokens",
    "model_context_window_exceeded": "context_window",
    "pause_turn": "pause_turn",
    "refusal": "refusal",
}

if TYPE_CHECKING:  # the SDK is imported lazily: it costs ~1 s at startup
    from anthropic.types import Message as AnthropicMessage
    from anthropic.types import (
        MessageParam,
        TextBlockParam,
        ToolParam,
        ToolResultBlockParam,
        ToolUseBlockParam,
    )

    Block: TypeAlias = TextBlockParam | ToolUseBlockParam | ToolResultBlockParam


def tools_to_anthropic(tools: Sequence[ToolSpec]) -> list[ToolParam]:
    return [
        {"name": t.name, "description": t.description, "input_schema": t.input_schema}
        for t in tools
    ]


def to_anthropic(messages: Sequence[Message]) -> list[MessageParam]:
    """The ``messages`` param for a transcript (the system prompt travels separately)."""
    out: list[MessageParam] = []
    for turn in turns(messages):
        blocks: list[Block] = []
        if isinstance(turn, AssistantTurn):
            if turn.text:
                blocks.append({"type": "text", "text": turn.text})
            for call in turn.calls:
                args: dict[str, Any] = dict(call.arguments) if call.arguments is not None else {}
                blocks.append(
                    {
                        "type": "tool_use",
                        "id": portable_id(call.id),
                        "name": portable_name(call.name),
                        "input": args,
                    }
                )
            out.append({"role": "assistant", "content": blocks})
            continue
        for result in turn.results:
            block: ToolResultBlockParam = {
                "type": "tool_result",
                "tool_use_id": portable_id(result.call_id),
                "content": result_content(result),
            }
            if result.is_error:
                block["is_error"] = True
            blocks.append(block)
        blocks.extend({"type": "text", "text": text} for text in turn.texts)
        out.append({"role": "user", "content": blocks})
    if out and out[0]["role"] == "assistant":
        out.insert(0, {"role": "user", "content": [{"type": "text", "text": RESUME_TEXT}]})
    return out


def map_stop_reason(raw: str | None, *, has_calls: bool) -> StopReason:
    """Anthropic's ``stop_reason`` in our vocabulary.

    ``stop_sequence`` is a normal end. ``model_context_window_exceeded`` and
    ``pause_turn`` leave the turn incomplete but are not ``max_tokens``: a bigger output
    limit helps neither, so each keeps a reason of its own and is told as what it is
    (``call_ids.incomplete_note``). Signoff sends no server-side tools, the only ones the
    API pauses a turn for, and its transcript could not carry their blocks back "as-is"
    (what Anthropic documents for ``pause_turn``): such a turn is told, not continued
    (docs/providers.md). Unknown or missing values fall back to ``tool_use`` when the
    reply has calls, else ``end_turn``.
    """
    mapped = _STOP.get(raw or "")
    if mapped is None:
        return "tool_use" if has_calls else "end_turn"
    return mapped


def _tool_input(value: object) -> str | dict[str, Any]:
    """The documented object, else what was sent (as JSON text) for the engine's parser."""
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, str):
        return value
    return "{}" if value is None else json.dumps(value, default=str)


def thought_in(message: AnthropicMessage) -> int:
    """Characters of the reply's thinking blocks: not kept in the transcript, but output
    all the same (a usage estimate counts them)."""
    return sum(
        len(text)
        for block in message.content or ()
        if getattr(block, "type", None) == "thinking"
        and isinstance(text := getattr(block, "thinking", None), str)
    )


def from_anthropic(message: AnthropicMessage, *, fallback_model: str = "") -> ModelReply:
    texts: list[str] = []
    calls: list[RawToolCall] = []
    for block in message.content or ():
        kind = getattr(block, "type", None)
        if kind == "text":
            text = getattr(block, "text", "")
            if text:
                texts.append(str(text))
        elif kind == "tool_use":
            # A gateway may send null for either (the SDK lets it through): str(None)
            # made every such call "None" (one id for all, a tool by that name). Left
            # empty, the parser generates an id and makes a nameless call an error result.
            calls.append(
                RawToolCall(
                    id=str(getattr(block, "id", None) or ""),
                    name=str(getattr(block, "name", None) or ""),
                    arguments=_tool_input(getattr(block, "input", None)),
                )
            )
    usage = message.usage
    return ModelReply(
        text="\n\n".join(texts),
        tool_calls=tuple(calls),
        stop_reason=map_stop_reason(message.stop_reason, has_calls=bool(calls)),
        # The API's input_tokens are only those after the last cache breakpoint; the
        # cached ones are billed apart (writes dearer, reads cheaper), so kept apart.
        usage=Usage(
            input_tokens=token_count(usage, "input_tokens"),
            output_tokens=token_count(usage, "output_tokens"),
            cache_write_tokens=token_count(usage, "cache_creation_input_tokens"),
            cache_read_tokens=token_count(usage, "cache_read_input_tokens"),
        ),
        model=str(message.model or fallback_model),
    )
