"""The ``Model`` protocol: one method, provider-neutral in and out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict

from .messages import Message, Usage

__all__ = ["Model", "ModelReply", "RawToolCall", "StopReason", "ToolSpec"]

StopReason = Literal["end_turn", "tool_use", "max_tokens", "refusal", "error"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ToolSpec(_Frozen):
    """What the model is told about a tool: name, description, JSON schema of its input."""

    name: str
    description: str
    input_schema: dict[str, Any]


class RawToolCall(_Frozen):
    """A tool call before defensive parsing: arguments as the provider sent them.

    Anthropic sends an object; OpenAI sends a JSON string that may be broken.
    """

    id: str
    name: str
    arguments: str | dict[str, Any]


class ModelReply(_Frozen):
    text: str = ""
    tool_calls: tuple[RawToolCall, ...] = ()
    stop_reason: StopReason = "end_turn"
    usage: Usage = Usage()
    model: str = ""


class Model(Protocol):
    """Anything that can take the next turn of a conversation."""

    @property
    def name(self) -> str: ...

    async def complete(
        self, *, system: str, messages: Sequence[Message], tools: Sequence[ToolSpec]
    ) -> ModelReply: ...
