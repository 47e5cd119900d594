"""A local stand-in for the Anthropic Messages API (``POST /v1/messages``).

Script it with a queue of replies; each request pops one, in order::

    async with FakeAnthropic() as api:               # api.base_url for the SDK
        api.reply("Let me look.", ToolUse("lookup", {"q": "x"}), "And this.",
                  ToolUse("other", {}), input_tokens=30, output_tokens=12)
        api.error(529)                               # overloaded_error body, request-id
        api.error(429, headers={"retry-after": "2"})
        api.reply("late", delay=1.0)                 # answer only after 1 s (timeouts)
        api.raw(502, "<html>Bad gateway</html>")     # a non-JSON answer
        api.reply("Slowly…", chunk_delay=0.05)        # streamed (SSE) when asked to stream
        api.reply("Cut", break_after=3)               # an overloaded_error event after 3
        ...
        api.requests[0].body / .headers              # everything the SDK sent

Bodies follow the documented wire format: a ``message`` object with ``content`` blocks,
``stop_reason`` (``tool_use`` when a ``ToolUse`` is present, else ``end_turn``, unless
given) and ``usage``; errors are ``{"type": "error", "error": {"type", "message"},
"request_id"}`` with a ``request-id`` header. ``api_key=`` makes it answer 401
``authentication_error`` to any other key; ``default_text=`` answers unscripted requests.
By default (``strict=True``) a request that breaks the documented conversation rules
(alternating roles, non-empty content, tool_use/tool_result pairing and order, id and
name patterns, object inputs) gets the 400 ``invalid_request_error`` the API would send;
``api.rejections`` lists why; so does a request with more than 4 ``cache_control`` marks.
``prompt_cache=PromptCache()`` (``fake_prompt_cache``) answers each reply's input usage as
the API bills it, from what the request marked and earlier requests wrote.

A request with ``"stream": true`` gets the reply as the API streams it: ``message_start``,
per block ``content_block_start`` / ``content_block_delta`` (``text_delta`` a few words at
a time, ``input_json_delta`` for tool input) / ``content_block_stop``, a ``ping``, then
``message_delta`` (stop reason, output tokens) and ``message_stop``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Self

from fake_prompt_cache import PromptCache, check_cache_points
from fake_provider_http import FakeServer, RecordedRequest, Scripted

__all__ = [
    "ERROR_TYPES",
    "FakeAnthropic",
    "RecordedRequest",
    "ToolUse",
    "check_messages_request",
]

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    503: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
_MESSAGES = {
    "invalid_request_error": "messages: Input should be a valid list",
    "authentication_error": "invalid x-api-key",
    "permission_error": "Your API key does not have permission to use the specified resource.",
    "not_found_error": "model: claude-nonexistent",
    "rate_limit_error": "Number of request tokens has exceeded your per-minute rate limit",
    "api_error": "Internal server error",
    "overloaded_error": "Overloaded",
}


_ID = re.compile(r"^[a-zA-Z0-9_-]+$")
_PIECE = re.compile(r"\S+\s*|\s+")


def text_pieces(text: str) -> list[str]:
    """How a streamed text arrives: a word (and the space after it) at a time."""
    return _PIECE.findall(text) or [text]


_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def check_messages_request(body: Any) -> str | None:
    """The documented Messages API rules a converter can break, as the API words them."""
    if not isinstance(body, dict):
        return "request body must be a JSON object"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model: Field required"
    if not isinstance(body.get("max_tokens"), int) or body["max_tokens"] < 1:
        return "max_tokens: Field required"
    for i, tool in enumerate(body.get("tools") or []):
        if not _NAME.match(str(tool.get("name", ""))):
            return f"tools.{i}.name: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'"
        if not isinstance(tool.get("input_schema"), dict):
            return f"tools.{i}.input_schema: Field required"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    if messages[0].get("role") != "user":
        return 'messages: first message must use the "user" role'
    pending: list[str] = []
    all_uses: set[str] = set()
    for i, msg in enumerate(messages):
        role, content = msg.get("role"), msg.get("content")
        if i and role == messages[i - 1].get("role"):
            return f'messages: roles must alternate between "user" and "assistant" ({i})'
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        if not isinstance(content, list) or not content:
            return f"messages.{i}: all messages must have non-empty content"
        results: list[str] = []
        seen_text = False
        uses: list[str] = []
        for j, block in enumerate(content):
            kind = block.get("type")
            where = f"messages.{i}.content.{j}"
            if kind == "text":
                if not str(block.get("text", "")).strip():
                    return f"{where}: text content blocks must contain non-whitespace text"
                seen_text = True
            elif kind == "tool_use":
                if role != "assistant":
                    return f"{where}: tool_use blocks are only allowed in assistant messages"
                if not _ID.match(str(block.get("id", ""))):
                    return f"{where}.id: String should match pattern '^[a-zA-Z0-9_-]+$'"
                if not _NAME.match(str(block.get("name", ""))):
                    return f"{where}.name: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'"
                if not isinstance(block.get("input"), dict):
                    return f"{where}.input: Input should be a valid dictionary"
                if block["id"] in all_uses:
                    return f"{where}: `tool_use` ids must be unique: {block['id']}"
                all_uses.add(block["id"])
                uses.append(block["id"])
            elif kind == "tool_result":
                if role != "user":
                    return f"{where}: tool_result blocks are only allowed in user messages"
                if seen_text:
                    return f"{where}: tool_result blocks must come before any text in the message"
                tid = str(block.get("tool_use_id", ""))
                if tid not in pending:
                    return (
                        f"{where}: unexpected `tool_use_id` found in `tool_result` blocks: {tid}."
                        " Each `tool_result` block must have a corresponding `tool_use` block"
                        " in the previous message."
                    )
                results.append(tid)
            else:
                return f"{where}.type: unsupported block type {kind!r}"
        if role == "user":
            missing = [t for t in pending if t not in results]
            if missing:
                return (
                    f"messages.{i}: `tool_use` ids were found without `tool_result` blocks "
                    f"immediately after: {', '.join(missing)}"
                )
            pending = []
        else:
            pending = uses
    return None


@dataclass(frozen=True)
class ToolUse:
    name: str
    input: dict[str, Any] = field(default_factory=dict)
    id: str | None = None


class FakeAnthropic(FakeServer):
    path = "/v1/messages"
    request_id_header = "request-id"
    request_id_prefix = "req_011CFake"

    def __init__(self, *, prompt_cache: PromptCache | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.prompt_cache = prompt_cache

    @property
    def base_url(self) -> str:
        """What to pass as the SDK's ``base_url`` (it appends ``/v1/messages``)."""
        return self.url

    def message(
        self,
        *content: str | ToolUse,
        stop_reason: str | None = None,
        input_tokens: int = 10,
        output_tokens: int = 5,
        model: str | None = None,
        usage_extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The JSON of a ``message`` reply (content blocks in the order given)."""
        blocks: list[dict[str, Any]] = []
        for part in content:
            if isinstance(part, str):
                blocks.append({"type": "text", "text": part})
            else:
                tid = part.id or f"toolu_01Fake{self.next_id():06d}"
                blocks.append(
                    {"type": "tool_use", "id": tid, "name": part.name, "input": part.input}
                )
        if stop_reason is None:
            stop_reason = "tool_use" if any(isinstance(p, ToolUse) for p in content) else "end_turn"
        return {
            "id": f"msg_01Fake{self.next_id():06d}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": blocks,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                **(usage_extra or {}),
            },
        }

    def reply(
        self,
        *content: str | ToolUse,
        stop_reason: str | None = None,
        input_tokens: int = 10,
        output_tokens: int = 5,
        model: str | None = None,
        usage_extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
        chunk_delay: float = 0.0,
        break_after: int | None = None,
        break_with: Literal["error", "drop", "eof", "endless", "endless_line"] = "error",
    ) -> Self:
        """Queue a 200 ``message`` reply; ``model`` defaults to the requested one. Streamed,
        each event waits ``chunk_delay``; ``break_after`` ends the stream after that many
        events with an ``overloaded_error`` event (or, ``break_with="drop"``, a dropped
        connection)."""
        body = self.message(
            *content,
            stop_reason=stop_reason,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            model=model,
            usage_extra=usage_extra,
        )
        return self.enqueue(
            Scripted(
                body=body,
                headers=headers or {},
                delay=delay,
                chunk_delay=chunk_delay,
                break_after=break_after,
                break_with=break_with,
            )
        )

    def error(
        self,
        status: int,
        error_type: str | None = None,
        message: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        delay: float = 0.0,
        details: Mapping[str, Any] | None = None,
    ) -> Self:
        """Queue an error: documented body for ``status`` unless ``body`` is given."""
        if body is None:
            etype = error_type or ERROR_TYPES.get(status, "api_error")
            body = self.error_body(status, message or _MESSAGES.get(etype, etype), etype)
            if details:
                body["error"]["details"] = dict(details)
        return self.enqueue(Scripted(status=status, body=body, headers=headers or {}, delay=delay))

    def error_body(self, status: int, message: str, error_type: str | None = None) -> Any:
        return {
            "type": "error",
            "error": {
                "type": error_type or ERROR_TYPES.get(status, "api_error"),
                "message": message,
            },
            "request_id": f"req_011CFake{self.next_id():06d}",
        }

    def ok_body(self, text: str, request_body: Any) -> Any:
        return self.message(text)

    def validate(self, body: Any) -> str | None:
        return check_messages_request(body) or check_cache_points(body)

    def stream_events(self, body: Any, request_body: Any) -> list[tuple[str | None, Any]]:
        usage = dict(body["usage"])
        start = {**body, "content": [], "stop_reason": None, "stop_sequence": None}
        start["usage"] = {**usage, "output_tokens": 1}
        events: list[tuple[str | None, Any]] = [
            ("message_start", {"type": "message_start", "message": start}),
            ("ping", {"type": "ping"}),
        ]
        for index, block in enumerate(body["content"]):
            if block["type"] == "text":
                opening: dict[str, Any] = {"type": "text", "text": ""}
                pieces = [{"type": "text_delta", "text": p} for p in text_pieces(block["text"])]
            else:
                opening = {**block, "input": {}}
                raw = json.dumps(block["input"])
                half = len(raw) // 2
                pieces = [
                    {"type": "input_json_delta", "partial_json": part}
                    for part in (raw[:half], raw[half:])
                    if part
                ]
            events.append(
                (
                    "content_block_start",
                    {"type": "content_block_start", "index": index, "content_block": opening},
                )
            )
            events.extend(
                (
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": piece},
                )
                for piece in pieces
            )
            events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        delta = {"stop_reason": body["stop_reason"], "stop_sequence": None}
        out_usage = {"output_tokens": usage["output_tokens"]}
        events.append(
            ("message_delta", {"type": "message_delta", "delta": delta, "usage": out_usage})
        )
        events.append(("message_stop", {"type": "message_stop"}))
        return events

    def stream_more(self, body: Any) -> tuple[str | None, Any]:
        piece = {"type": "text_delta", "text": "and on "}
        return "content_block_delta", {"type": "content_block_delta", "index": 0, "delta": piece}

    def stream_error(self) -> tuple[str | None, Any]:
        error = {"type": "overloaded_error", "message": "Overloaded"}
        return "error", {"type": "error", "error": error}

    def fill(self, body: Any, request_body: Any) -> Any:
        if isinstance(body, dict) and body.get("type") == "message" and body.get("model") is None:
            requested = request_body.get("model") if isinstance(request_body, dict) else None
            body = {**body, "model": requested or "claude-fake"}
        if self.prompt_cache is not None and isinstance(body, dict) and "usage" in body:
            usage = {**body["usage"], **self.prompt_cache.usage(request_body)}
            body = {**body, "usage": usage}
        return body
