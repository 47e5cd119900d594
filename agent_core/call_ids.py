"""A reply's tool calls as the transcript records them, each with an id of its own.

Results, approvals, tickets and a child session's settling are all keyed by call id, so
a model that repeats one (twice in a turn, or again in a later turn) would have one
call's outcome told for another. The provider's id is kept while it is new; a repeat
gets a suffix, deterministically (a replay of the same replies records the same ids).

A reply cut off (at the output token limit: ``max_tokens``, OpenAI's ``length``; at the
model's context window; by a paused turn; by a refusal or content filter, which stop
a reply where it stands; or by signoff, past the answer cap) may end in the middle
of a call's arguments, and what arrived still parses: jiter's partial mode and the
parser's repairs close ``{"replicas": 3`` (of 30) into an object. No call of such a
reply is taken at its word: each is recorded with what arrived and an error the model
reads, so it can ask again. Nor is a call whose arguments end before their JSON does,
whatever the stop reason says (vLLM reports ``tool_calls`` for a streamed call it cut off
at ``max_tokens``): the parser would close it the same way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from .messages import AssistantMessage, Message, ToolCall
from .model import RawToolCall
from .parsing import ends_early, to_tool_call

__all__ = ["CUT_OFF", "ENDS_EARLY", "incomplete_note", "recorded_calls"]

CUT_OFF = {
    "max_tokens": "not run: your reply was cut off at the output token limit before this "
    "call was complete; send the call again in a shorter reply",
    # No "shorter reply": the conversation, not the reply, is what filled the window.
    "context_window": "not run: your reply was cut off when the conversation filled your "
    "context window, before this call was complete",
    "pause_turn": "not run: your turn was paused before it finished, so this call may be "
    "incomplete",
    "refusal": "not run: your reply was cut off by a refusal or content filter, so this "
    "call may be incomplete",
    "overlong": "not run: your reply went on far past the output token limit and was cut "
    "off before this call was complete; send the call again in a shorter reply",
    # Its thinking, not the reply, went on: the reply may be short and within its limit.
    "overlong_thinking": "not run: your thinking went on far past signoff's allowance for "
    "it and was cut off before this call was complete; send the call again after less "
    "thinking",
}

ENDS_EARLY = (
    "not run: your reply was cut off before this call's arguments were complete (their JSON "
    "ends early); send the whole call again"
)

# What the person is told of a reply that ended so, and what they can do about it.
_NOTES = {
    "max_tokens": ("The model ran out of output tokens", ""),
    "context_window": (
        "This thread is now too long for the model's context window",
        " Start a new thread with what matters from this one (an operator can also lower "
        "SIGNOFF_HISTORY_CHARS, so less of a long thread is sent).",
    ),
    "pause_turn": (
        "The model paused its turn before it finished",
        " Mention me to ask it to go on.",
    ),
    "refusal": ("The model refused", ""),
    "overlong": (
        "The model's answer went on far past its output limit, so signoff cut it off",
        "",
    ),
    "overlong_thinking": (
        "The model's thinking went on far past signoff's allowance for it, so signoff cut it off",
        "",
    ),
}


def incomplete_note(stop_reason: str, *, above: bool) -> str | None:
    """The thread's note on a reply with no calls that ended ``stop_reason``, or None for
    a whole one. ``above``: it said something in this turn ("the answer above" would
    otherwise point at an earlier answer, which was whole)."""
    if stop_reason not in _NOTES:
        return None
    what, hint = _NOTES[stop_reason]
    said = "the answer above may be incomplete" if above else "it gave no answer"
    return f"({what}; {said}.{hint})"


def recorded_calls(
    transcript: Sequence[Message], raws: Sequence[RawToolCall], *, stop_reason: str = ""
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
        if stop_reason in CUT_OFF:
            call = _not_taken(call, raw, CUT_OFF[stop_reason])
        elif call.arguments is not None and ends_early(raw.arguments):
            call = _not_taken(call, raw, ENDS_EARLY)
        taken.add(call.id)
        calls.append(call)
    return tuple(calls)


def _not_taken(call: ToolCall, raw: RawToolCall, why: str) -> ToolCall:
    text = raw.arguments if isinstance(raw.arguments, str) else json.dumps(raw.arguments)
    return call.model_copy(
        update={
            "arguments": None,
            "raw_arguments": call.raw_arguments or text,
            "parse_error": why,
        }
    )
