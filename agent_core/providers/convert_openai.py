"""Our transcript records to OpenAI Chat Completions params, and a reply back.

Request shape (after ``transcript.turns``):

- the system prompt -> a leading ``system`` message (omitted when empty);
- user-side turn -> one ``tool`` message per result (they must directly follow the
  assistant message that made the calls), then one ``user`` message per user/event text;
  a result whose status is not ``ok`` has ``[status: <status>] `` prepended, since Chat
  Completions has no ``is_error``;
- assistant turn -> one ``assistant`` message, ``content`` null when there is no text,
  ``tool_calls`` with ``arguments`` as a JSON string: the stored arguments re-serialised,
  or, when they did not parse, the raw string as the model sent it (``"{}"`` if none);
- ids go through ``portable_id`` in both ``tool_calls`` and ``tool_call_id``, stored
  tool names through ``portable_name``.

Reply: arguments are passed through as the raw JSON string (never parsed here), the
legacy ``function_call`` becomes a tool call, ``refusal`` becomes the text. A call that
came without an id (legacy ``function_call``, some compatible servers) keeps an empty id:
the engine's ``agent_core.parsing.to_tool_call`` derives a deterministic one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..messages import Message, ToolCall, ToolResultMessage, Usage
from ..model import ModelReply, RawToolCall, StopReason, ToolSpec
from .token_counts import token_count
from .transcript import AssistantTurn, portable_id, portable_name, result_content, turns

__all__ = [
    "INTERRUPTED",
    "arguments_string",
    "content_text",
    "from_openai",
    "legacy_call",
    "map_finish_reason",
    "to_openai",
    "tool_message_content",
    "tools_to_openai",
]

if TYPE_CHECKING:  # the SDK is imported lazily: it costs ~0.5 s at startup
    from openai.types.chat import (
        ChatCompletion,
        ChatCompletionMessageFunctionToolCallParam,
        ChatCompletionMessageParam,
        ChatCompletionToolParam,
    )

_FINISH: dict[str, StopReason] = {
    "stop": "end_turn",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "length": "max_tokens",
    "content_filter": "refusal",
    "model_length": "context_window",  # Mistral's: the conversation filled the window
}

INTERRUPTED = frozenset({"insufficient_system_resource", "error", "abort"})
"""Compatible servers' finish reasons for a reply they broke off (DeepSeek's, out of
resources; Mistral's, an error; vLLM's, an aborted request): not an answer that ended, so
not read as ``end_turn``, but as one that broke off midway (``OpenAIModel``)."""


def tools_to_openai(tools: Sequence[ToolSpec]) -> list[ChatCompletionToolParam]:
    return [
        {
            "type": "function",
            "function": {
                "name": t.name,
                "description": t.description,
                "parameters": t.input_schema,
            },
        }
        for t in tools
    ]


def arguments_string(call: ToolCall) -> str:
    """What goes back in ``function.arguments`` for a stored call."""
    if call.arguments is not None:
        return json.dumps(call.arguments, ensure_ascii=False, separators=(",", ":"))
    if isinstance(call.raw_arguments, str):
        return call.raw_arguments
    return "{}"


def tool_message_content(result: ToolResultMessage) -> str:
    content = result_content(result)
    return content if result.status == "ok" else f"[status: {result.status}] {content}"


def to_openai(system: str, messages: Sequence[Message]) -> list[ChatCompletionMessageParam]:
    out: list[ChatCompletionMessageParam] = []
    if system:
        out.append({"role": "system", "content": system})
    for turn in turns(messages):
        if isinstance(turn, AssistantTurn):
            calls: list[ChatCompletionMessageFunctionToolCallParam] = [
                {
                    "id": portable_id(c.id),
                    "type": "function",
                    "function": {"name": portable_name(c.name), "arguments": arguments_string(c)},
                }
                for c in turn.calls
            ]
            if calls:
                out.append({"role": "assistant", "content": turn.text or None, "tool_calls": calls})
            else:
                out.append({"role": "assistant", "content": turn.text})
            continue
        for result in turn.results:
            out.append(
                {
                    "role": "tool",
                    "tool_call_id": portable_id(result.call_id),
                    "content": tool_message_content(result),
                }
            )
        for text in turn.texts:
            out.append({"role": "user", "content": text})
    return out


def map_finish_reason(raw: str | None, *, has_calls: bool) -> StopReason:
    """``finish_reason`` in our vocabulary; a reply with calls is ``tool_use`` unless it
    was cut off or filtered (some compatible servers say ``stop`` with calls)."""
    mapped = _FINISH.get(raw or "")
    if has_calls and mapped not in ("max_tokens", "refusal"):
        return "tool_use"
    return mapped or "end_turn"


def _raw_arguments(value: object) -> str | dict[str, object]:
    if isinstance(value, str | dict):
        return value
    return "" if value is None else json.dumps(value, default=str)


def _part_text(part: object) -> str:
    text = part.get("text") if isinstance(part, dict) else getattr(part, "text", None)
    return text if isinstance(text, str) else ""


def content_text(content: object) -> str:
    """``content`` is a string; a few compatible servers send a list of parts (Mistral's
    Magistral: its thinking, then text parts), whole or streamed, of which the text is read."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(_part_text(part) for part in content)
    return ""


def _tool_calls(message: object) -> list[RawToolCall]:
    calls: list[RawToolCall] = []
    for tc in getattr(message, "tool_calls", None) or ():
        spec = getattr(tc, "function", None) or getattr(tc, "custom", None)
        if spec is None:
            continue
        raw = getattr(spec, "arguments", None)
        if raw is None:
            raw = getattr(spec, "input", None)
        calls.append(
            RawToolCall(
                id=str(getattr(tc, "id", None) or ""),
                name=str(getattr(spec, "name", "") or ""),
                arguments=_raw_arguments(raw),
            )
        )
    legacy = getattr(message, "function_call", None)
    if legacy_call(legacy) and not calls:
        calls.append(
            RawToolCall(
                id="",
                name=str(getattr(legacy, "name", "") or ""),
                arguments=_raw_arguments(getattr(legacy, "arguments", None)),
            )
        )
    return calls


def legacy_call(function_call: object) -> bool:
    """Whether a legacy ``function_call`` (or a streamed piece of one) says anything. Some
    compatible gateways (Volcano Engine's Ark, Hunyuan, some in front of DeepSeek) send its
    zero value, ``{"name": "", "arguments": ""}``, beside every answer: that is no call."""
    return function_call is not None and bool(
        getattr(function_call, "name", None) or getattr(function_call, "arguments", None)
    )


def from_openai(completion: ChatCompletion, *, fallback_model: str = "") -> ModelReply:
    """Our reply for a completion; ``ValueError`` if it has no choice to read."""
    if not completion.choices:
        raise ValueError("the reply has no choices")
    choice = completion.choices[0]
    message = choice.message
    if message is None:
        raise ValueError("the reply's first choice has no message")
    calls = _tool_calls(message)
    text = content_text(message.content)
    stop = map_finish_reason(choice.finish_reason, has_calls=bool(calls))
    refusal = getattr(message, "refusal", None)
    if refusal:
        text = text or str(refusal)
        stop = "refusal"
    usage = completion.usage
    prompt = token_count(usage, "prompt_tokens")
    # OpenAI's prompt_tokens include those its automatic cache served, billed lower.
    cached = min(
        prompt, token_count(getattr(usage, "prompt_tokens_details", None), "cached_tokens")
    )
    return ModelReply(
        text=text,
        tool_calls=tuple(calls),
        stop_reason=stop,
        usage=Usage(
            input_tokens=prompt - cached,
            cache_read_tokens=cached,
            output_tokens=token_count(usage, "completion_tokens"),
        ),
        model=str(completion.model or fallback_model),
    )
