"""A streamed Chat Completion put back together, chunk by chunk.

With ``stream: true`` the API sends ``chat.completion.chunk`` objects: the text as
``delta.content`` pieces, each tool call as pieces keyed by ``index`` (the first with its
``id`` and ``function.name``, the rest with more ``function.arguments``, which a few
compatible servers send as the object itself, read as its JSON text; a new ``id`` at
an index already used begins another call, as some compatible servers number them), the
``finish_reason`` on the last chunk of a choice and, with ``stream_options.include_usage``,
a final chunk with ``usage`` and no choices. A server answering in the legacy form streams
one ``function_call`` (its name, then its arguments in pieces), kept as the whole reply
keeps it. ``CompletionAssembler`` rebuilds the
``ChatCompletion`` the same call without streaming would have returned, so it goes
through the same conversion (``from_openai``). The SDK's own helper is not used because
it raises on ``finish_reason: "length"``, which signoff reports instead.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .convert_openai import content_text, legacy_call

__all__ = ["CompletionAssembler", "made_progress", "thought_in"]

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletion, ChatCompletionChunk


def made_progress(chunk: ChatCompletionChunk) -> bool:
    """Does ``chunk`` carry any of the reply (text, a tool call, its end, the usage)? A
    server that sends only empty chunks is stalled, however often it sends them."""
    try:
        return _news(chunk)
    except (AttributeError, TypeError):  # not the format: news, for the assembler to refuse
        return True


def _news(chunk: ChatCompletionChunk) -> bool:
    if chunk.usage is not None:
        return True
    for choice in _choices(chunk):
        delta = choice.delta
        if choice.finish_reason:
            return True
        if delta is not None and (
            delta.content or delta.tool_calls or delta.refusal or legacy_call(delta.function_call)
        ):
            return True
        # Reasoning servers stream their thinking in fields of their own (reasoning_content,
        # reasoning) for minutes before the first word: slow, not stalled.
        if delta is not None and any((delta.model_extra or {}).values()):
            return True
    return False


class CompletionAssembler:
    def __init__(self) -> None:
        self._id = ""
        self._model = ""
        self._created = 0
        self._text: list[str] = []
        self._refusal: list[str] = []
        self._calls: list[dict[str, Any]] = []  # in the order they began
        self._legacy: dict[str, Any] | None = None  # a legacy function_call: name, args
        self._open: dict[object, dict[str, Any]] = {}  # index -> the call its pieces continue
        self._finish: str | None = None
        self._usage: dict[str, Any] | None = None
        self.chunks = 0
        self.received = 0
        """Characters of the answer so far (text, refusal, arguments): the cap's."""
        self.thought = 0
        """Characters of the thinking so far, which the cap bounds apart (``AnswerCap``)."""

    @property
    def finish_reason(self) -> str | None:
        return self._finish

    @property
    def finished(self) -> bool:
        """Whether a ``finish_reason`` arrived: without one the stream was cut short."""
        return self._finish is not None

    def add(self, chunk: ChatCompletionChunk) -> str:
        """Take one chunk; the text it adds (for the live view)."""
        self.chunks += 1
        self._id = self._id or chunk.id
        self._model = self._model or chunk.model
        self._created = self._created or chunk.created
        if chunk.usage is not None:
            self._usage = chunk.usage.model_dump()
        added = ""
        choices = _choices(chunk)
        for choice in choices:
            if choice.index != 0 and len(choices) > 1:
                # signoff asks for one choice; a chunk that holds one is it, however a
                # compatible server numbers it (none, or counting up with every chunk).
                continue
            if choice.finish_reason:
                self._finish = choice.finish_reason
            delta = choice.delta
            if delta is None and choice.finish_reason:  # Azure's: "delta": null, not {}
                continue
            content = content_text(delta.content)  # a few servers stream a list of parts
            if content:
                added += content
                self._text.append(content)
            if delta.refusal:
                self._refusal.append(delta.refusal)
            self.received += len(content or "") + len(delta.refusal or "")
            self.thought += thought_in(delta)
            self._function_call(getattr(delta, "function_call", None))
            for piece in delta.tool_calls or ():
                call = self._open.get(piece.index)
                if call is None or (piece.id and call["id"] and piece.id != call["id"]):
                    # A new id at a used index is a new call: Ollama numbers every call 0
                    # (older builds send no index), and only the ids tell them apart.
                    call = {"index": piece.index, "id": "", "name": "", "args": []}
                    self._calls.append(call)
                    self._open[piece.index] = call
                call["id"] = call["id"] or (piece.id or "")
                if piece.function is not None:
                    call["name"] = call["name"] or (piece.function.name or "")
                    pieces: object = piece.function.arguments
                    if isinstance(pieces, dict):  # MiniMax sends the object, not its text
                        pieces = json.dumps(pieces, ensure_ascii=False)
                    if pieces and not isinstance(pieces, str):  # joined as text at the end
                        raise TypeError(f"arguments piece is {type(pieces).__name__}")
                    if isinstance(pieces, str) and pieces:
                        call["args"].append(pieces)
                        self.received += len(pieces)
        return added

    def _function_call(self, piece: Any) -> None:
        """A piece of a legacy ``function_call``: its name once, its arguments as they come
        (an empty one, some gateways' placeholder beside every answer, is none)."""
        if not legacy_call(piece):
            return
        legacy = self._legacy = self._legacy or {"name": "", "args": []}
        legacy["name"] = legacy["name"] or (getattr(piece, "name", None) or "")
        arguments: object = getattr(piece, "arguments", None)
        if arguments and not isinstance(arguments, str):
            raise TypeError(f"function_call arguments piece is {type(arguments).__name__}")
        if isinstance(arguments, str) and arguments:
            legacy["args"].append(arguments)
            self.received += len(arguments)

    def completion(self) -> ChatCompletion:
        """What the call returned, as a ``ChatCompletion`` (built as leniently as the SDK
        builds replies, so a compatible server's own finish reasons get through)."""
        from openai.types.chat import ChatCompletion

        message: dict[str, Any] = {
            "role": "assistant",
            "content": "".join(self._text) or None,
            "refusal": "".join(self._refusal) or None,
        }
        if self._calls:
            message["tool_calls"] = [
                {
                    "id": call["id"],
                    "type": "function",
                    "function": {"name": call["name"], "arguments": "".join(call["args"])},
                }
                for call in sorted(self._calls, key=_position)
            ]
        if self._legacy is not None:  # read only where no tool call came (``from_openai``)
            legacy = self._legacy
            message["function_call"] = {
                "name": legacy["name"],
                "arguments": "".join(legacy["args"]),
            }
        data: dict[str, Any] = {
            "id": self._id,
            "object": "chat.completion",
            "created": self._created,
            "model": self._model,
            "choices": [{"index": 0, "message": message, "finish_reason": self._finish or "stop"}],
            "usage": self._usage,
        }
        return ChatCompletion.construct(**data)


def _choices(chunk: ChatCompletionChunk) -> list[Any]:
    # A few compatible servers send a usage or control chunk with "choices": null, or
    # none at all, where OpenAI sends []: the SDK lets both through.
    return getattr(chunk, "choices", None) or []


def thought_in(part: Any) -> int:
    """Characters of thinking in a delta or a whole reply's message: a server's own fields
    (``reasoning_content``, ``reasoning``) or ``thinking`` parts of its ``content``."""
    return max(_reasoning(part), _thinking_parts(getattr(part, "content", None)))


def _reasoning(delta: Any) -> int:
    """Characters of the thinking a reasoning server streams in fields of its own: the
    longest, as some send the same piece under two names (``reasoning_content`` and
    ``reasoning``), which is one piece of thinking, not two."""
    extra = getattr(delta, "model_extra", None) or {}
    return max((len(value) for value in extra.values() if isinstance(value, str)), default=0)


def _thinking_parts(content: object) -> int:
    """Characters of the ``thinking`` parts of a ``content`` list (Mistral's Magistral:
    ``{"type": "thinking", "thinking": [{"type": "text", "text": …}]}``): not the
    answer, whose text parts alone are read, but thinking all the same."""
    if not isinstance(content, list):
        return 0
    return sum(
        len(content_text(_field(p, "thinking"))) for p in content if _field(p, "type") == "thinking"
    )


def _field(part: object, key: str) -> object:
    return part.get(key) if isinstance(part, dict) else getattr(part, key, None)


def _position(call: dict[str, Any]) -> int:
    # By index, as the API numbers calls; calls sharing one keep the order they came in.
    index = call["index"]
    return index if isinstance(index, int) else 0
