"""The transcript: model-facing messages as stored in ``transcript.jsonl``.

These records are provider-neutral. Each provider adapter converts them to and from its
API's format, so a session recorded with one provider resumes on another.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    model_serializer,
)

__all__ = [
    "AssistantMessage",
    "EventMessage",
    "Message",
    "ToolCall",
    "ToolResultMessage",
    "ToolStatus",
    "Usage",
    "UserMessage",
    "message_adapter",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Usage(_Frozen):
    """A reply's tokens, each counted once, by how it is billed: ``input_tokens`` at the
    input price, ``cache_write_tokens`` written to a prompt cache (Anthropic: 1.25x the
    input price), ``cache_read_tokens`` read from one (0.1x), ``output_tokens``."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0

    @property
    def total(self) -> int:
        """Every token the model read or wrote (what the token budget counts)."""
        return (
            self.input_tokens
            + self.cache_write_tokens
            + self.cache_read_tokens
            + self.output_tokens
        )

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
        )

    @model_serializer(mode="wrap")
    def _without_unused_cache(self, dump: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # A reply with no cache tokens is stored as before they were counted: the records
        # of other providers keep their bytes, and an older signoff still reads them.
        data: dict[str, Any] = dump(self)
        for name in ("cache_write_tokens", "cache_read_tokens"):
            if not data.get(name):
                data.pop(name, None)
        return data


class ToolCall(_Frozen):
    """One call as the model asked for it.

    ``arguments`` is set when the raw arguments parsed (possibly after repair);
    otherwise ``parse_error`` says why, and ``raw_arguments`` keeps what was sent.
    """

    id: str
    name: str
    arguments: dict[str, Any] | None = None
    raw_arguments: str | None = None
    parse_error: str | None = None


class UserMessage(_Frozen):
    schema_version: Literal[1] = 1
    role: Literal["user"] = "user"
    text: str
    user: str = ""
    ts: str = ""
    # The author's team, when it is not the thread's (a Slack Connect guest); "" unknown.
    user_team: str = ""


class AssistantMessage(_Frozen):
    schema_version: Literal[1] = 1
    role: Literal["assistant"] = "assistant"
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    stop_reason: str = "end_turn"
    model: str = ""
    usage: Usage = Usage()


ToolStatus = Literal["ok", "error", "denied", "expired", "refused", "pending", "uncertain"]


class ToolResultMessage(_Frozen):
    schema_version: Literal[1] = 1
    role: Literal["tool"] = "tool"
    call_id: str
    name: str
    content: str
    status: ToolStatus = "ok"
    args_sha256: str = ""
    approval_id: str = ""

    @property
    def is_error(self) -> bool:
        return self.status != "ok"


class EventMessage(_Frozen):
    """Something the runtime tells the model outside a tool result's slot.

    Used when a decision arrives after the conversation moved on (the call already has
    a "pending" result), so the outcome is told, not slotted. Rendered as user text.
    """

    schema_version: Literal[1] = 1
    role: Literal["event"] = "event"
    text: str
    approval_id: str = ""
    call_id: str = ""
    status: ToolStatus | None = None
    args_sha256: str = ""


Message = Annotated[
    UserMessage | AssistantMessage | ToolResultMessage | EventMessage,
    Field(discriminator="role"),
]
message_adapter: TypeAdapter[Message] = TypeAdapter(Message)
