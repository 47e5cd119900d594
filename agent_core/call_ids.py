"""A reply's tool calls as the transcript records them, each with an id of its own.

Results, approvals, tickets and a child session's settling are all keyed by call id, so
a model that repeats one (twice in a turn, or again in a later turn) would have one
call's outcome told for another. The provider's id is kept while it is new; a repeat
gets a suffix, deterministically (a replay of the same replies records the same ids).
"""

from __future__ import annotations

from collections.abc import Sequence

from .messages import AssistantMessage, Message, ToolCall
from .model import RawToolCall
from .parsing import to_tool_call

__all__ = ["recorded_calls"]


def recorded_calls(
    transcript: Sequence[Message], raws: Sequence[RawToolCall]
) -> tuple[ToolCall, ...]:
    taken = {c.id for m in transcript if isinstance(m, AssistantMessage) for c in m.tool_calls}
    calls: list[ToolCall] = []
    for index, raw in enumerate(raws):
        call = to_tool_call(raw, index=index)
        if call.id in taken:
            n = 2
            while f"{call.id}-{n}" in taken:
                n += 1
            call = call.model_copy(update={"id": f"{call.id}-{n}"})
        taken.add(call.id)
        calls.append(call)
    return tuple(calls)
