"""Provider-neutral shaping of a stored transcript before it is rendered for an API.

Both APIs want the same conversation shape, which a stored transcript does not always
have: strictly alternating user-side / assistant turns, every tool call answered by
exactly one result in the very next user-side turn, and no result for a call that turn
did not make. ``turns()`` produces that shape without dropping anything we stored:

- consecutive user-side records (UserMessage, EventMessage, ToolResultMessage) form one
  ``UserTurn``; consecutive assistant records form one ``AssistantTurn``;
- an assistant record with neither text nor tool calls is skipped (APIs reject empty
  content); empty user/event text is skipped likewise;
- a call id used more than once (a model repeating one, merged records) gets a distinct
  alias per use, and results are slotted in call order;
- a call without a result gets a synthesized ``error`` result saying so;
- a result that answers no call of the preceding assistant turn (a late decision, a
  duplicate) is kept as text in its turn, so the model still reads it.

``portable_id`` maps any provider's tool-call id to one both APIs accept, and
``portable_name`` does the same for a stored call's tool name (the engine keeps names a
model got wrong, with a parse error; the APIs refuse them in history).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..messages import (
    AssistantMessage,
    EventMessage,
    Message,
    ToolCall,
    ToolResultMessage,
    UserMessage,
)

__all__ = [
    "MISSING_RESULT",
    "AssistantTurn",
    "UserTurn",
    "orphan_text",
    "portable_id",
    "portable_name",
    "result_content",
    "turns",
]

MISSING_RESULT = "(no result was recorded for this tool call)"
_EMPTY_RESULT = "(no output)"
_ID_OK = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_ID_BAD_CHARS = re.compile(r"[^A-Za-z0-9_-]")
_NAME_OK = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass
class AssistantTurn:
    text: str = ""
    calls: list[ToolCall] = field(default_factory=list)
    slots: dict[str, list[str]] = field(default_factory=dict)
    """Stored call id -> the id(s) its calls carry here (filled by ``turns()``)."""


@dataclass
class UserTurn:
    results: list[ToolResultMessage] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    parts: list[str | ToolResultMessage] = field(default_factory=list)
    """Raw parts in stored order; ``results`` / ``texts`` are filled by ``turns()``."""


Turn = AssistantTurn | UserTurn


def portable_id(call_id: str) -> str:
    """A tool-call id valid for Anthropic (``^[a-zA-Z0-9_-]+$``) and OpenAI (<= 40 chars).

    Valid ids pass unchanged; others are cleaned and suffixed with a hash of the
    original, so the mapping is deterministic and distinct ids stay distinct.
    """
    if _ID_OK.match(call_id):
        return call_id
    digest = hashlib.sha256(call_id.encode()).hexdigest()[:10]
    cleaned = _ID_BAD_CHARS.sub("_", call_id)[:29] or "call"
    return f"{cleaned}_{digest}"


def portable_name(name: str) -> str:
    """A tool name valid for both APIs (``^[a-zA-Z0-9_-]{1,64}$``); valid names pass
    unchanged, others have each bad character replaced by ``_``."""
    if _NAME_OK.match(name):
        return name
    return _ID_BAD_CHARS.sub("_", name)[:64] or "invalid_tool_name"


def result_content(result: ToolResultMessage) -> str:
    """The result's content, never empty."""
    return result.content if result.content.strip() else _EMPTY_RESULT


def orphan_text(result: ToolResultMessage) -> str:
    """A result that has no call to answer, told as text."""
    return (
        f"[result of tool {result.name} (call {result.call_id}), status {result.status}]\n"
        f"{result_content(result)}"
    )


def _group(messages: Sequence[Message]) -> list[Turn]:
    out: list[Turn] = []
    for msg in messages:
        if isinstance(msg, AssistantMessage):
            text = msg.text if msg.text.strip() else ""
            if not text and not msg.tool_calls:
                continue
            last = out[-1] if out else None
            if isinstance(last, AssistantTurn):
                last.text = "\n\n".join(t for t in (last.text, text) if t)
                last.calls.extend(msg.tool_calls)
            else:
                out.append(AssistantTurn(text=text, calls=list(msg.tool_calls)))
            continue
        part: str | ToolResultMessage
        if isinstance(msg, ToolResultMessage):
            part = msg
        elif isinstance(msg, UserMessage | EventMessage):
            if not msg.text.strip():
                continue
            part = msg.text
        else:  # pragma: no cover - the Message union is closed
            continue
        last = out[-1] if out else None
        if isinstance(last, UserTurn):
            last.parts.append(part)
        else:
            out.append(UserTurn(parts=[part]))
    return out


def _unique_ids(turns_: list[Turn]) -> None:
    """Give repeated call ids (a model reusing one, merged records) distinct aliases,
    conversation-wide; ``AssistantTurn.slots`` maps each stored id to its aliases in order."""
    seen: dict[str, int] = {}
    for turn in turns_:
        if not isinstance(turn, AssistantTurn):
            continue
        renamed: list[ToolCall] = []
        for call in turn.calls:
            count = seen[call.id] = seen.get(call.id, 0) + 1
            alias = call.id if count == 1 else f"{call.id}#{count}"
            turn.slots.setdefault(call.id, []).append(alias)
            renamed.append(call if alias == call.id else call.model_copy(update={"id": alias}))
        turn.calls = renamed


def _pair(turn: UserTurn, prev: AssistantTurn | None) -> None:
    """Slot each result into the call it answers (in call order for a repeated id); tell
    the rest as text; synthesize an error result for every call left unanswered."""
    free = {cid: list(aliases) for cid, aliases in prev.slots.items()} if prev else {}
    answered: set[str] = set()
    for part in turn.parts:
        if isinstance(part, str):
            turn.texts.append(part)
        elif free.get(part.call_id):
            alias = free[part.call_id].pop(0)
            answered.add(alias)
            same = alias == part.call_id
            turn.results.append(part if same else part.model_copy(update={"call_id": alias}))
        else:
            turn.texts.append(orphan_text(part))
    for call in prev.calls if prev else ():
        if call.id not in answered:
            turn.results.append(
                ToolResultMessage(
                    call_id=call.id, name=call.name, content=MISSING_RESULT, status="error"
                )
            )


def turns(messages: Sequence[Message]) -> list[Turn]:
    """The transcript as alternating turns with every tool call answered."""
    out = _group(messages)
    _unique_ids(out)
    for i, turn in enumerate(out):
        if isinstance(turn, UserTurn):
            prev = out[i - 1] if i else None
            _pair(turn, prev if isinstance(prev, AssistantTurn) else None)
    last = out[-1] if out else None
    if isinstance(last, AssistantTurn) and last.calls:
        answers = UserTurn()
        _pair(answers, last)
        out.append(answers)
    return out
