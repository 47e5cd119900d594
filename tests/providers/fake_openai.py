"""A local stand-in for OpenAI Chat Completions (``POST /v1/chat/completions``), which
OpenAI-compatible servers (vLLM, llama.cpp, Ollama) also speak.

Script it with a queue of replies; each request pops one, in order::

    async with FakeOpenAI() as api:                  # api.base_url ends in /v1
        api.reply("Checking.", tool_calls=[Call("lookup", '{"q": "x"}'),
                                           Call("other", "{bad json")])
        api.reply(refusal="I can't help with that.")
        api.reply("cut", finish_reason="length")
        api.error(429, headers={"retry-after-ms": "1500"})
        api.error(401)                               # invalid_api_key body
        api.reply("late", delay=1.0)
        api.requests[0].body / .headers

Bodies follow the documented wire format: ``chat.completion`` with one choice,
``finish_reason`` (``tool_calls`` when calls are present, else ``stop``, unless given),
``usage``; errors are ``{"error": {"message", "type", "param", "code"}}`` with an
``x-request-id`` header. ``Call.arguments`` is sent verbatim when it is a string, so a
test can script malformed JSON. By default (``strict=True``) a request that breaks the
documented conversation rules (tool messages answering every ``tool_call_id`` right after
the assistant message, id length, name pattern, string arguments, non-empty user content,
at most ``max_tools`` tools: OpenAI's 128, ``None`` for a server without that cap)
gets the 400 ``invalid_request_error`` the API would send; ``api.rejections`` lists why.

A request with ``"stream": true`` gets ``chat.completion.chunk`` events (``data:`` lines
only): a first chunk with the role, the text a few words at a time, each tool call as
its id and name and then its arguments in pieces (keyed by ``index``; a legacy
``function_call`` alike, unkeyed), a last chunk with
the ``finish_reason``, a chunk with ``usage`` and no choices when
``stream_options.include_usage`` asks for it, then ``data: [DONE]``. A stream that breaks
(``break_after``) ends with ``data: {"error": {…}}`` as the API sends mid-stream.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Self

from fake_anthropic import text_pieces
from fake_provider_http import FakeServer, RecordedRequest, Scripted

__all__ = [
    "OPENAI_MAX_TOOLS",
    "Call",
    "FakeOpenAI",
    "RecordedRequest",
    "check_chat_request",
]

_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid value for 'messages'."),
    401: (
        "invalid_request_error",
        "invalid_api_key",
        "Incorrect API key provided. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
    ),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Forbidden."),
    404: (
        "invalid_request_error",
        "model_not_found",
        "The model `gpt-nonexistent` does not exist or you do not have access to it.",
    ),
    429: (
        "requests",
        "rate_limit_exceeded",
        "Rate limit reached for requests. Please try again in 2s.",
    ),
    500: ("server_error", None, "The server had an error while processing your request."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}


_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
# OpenAI's cap on the ``tools`` array (its 400 ``array_above_max_length``).
OPENAI_MAX_TOOLS = 128
_ROLES = ("system", "developer", "user", "assistant", "tool")


def check_chat_request(body: Any, *, max_tools: int | None = OPENAI_MAX_TOOLS) -> str | None:
    """The documented Chat Completions rules a converter can break, as the API words them."""
    if not isinstance(body, dict):
        return "We could not parse the JSON body of your request."
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "you must provide a model parameter"
    tools = body.get("tools") or []
    if max_tools is not None and len(tools) > max_tools:
        return (
            "Invalid 'tools': array too long. Expected an array with maximum length "
            f"{max_tools}, but got an array with length {len(tools)} instead."
        )
    for i, tool in enumerate(body.get("tools") or []):
        fn = tool.get("function") or {}
        if tool.get("type") != "function" or not _NAME.match(str(fn.get("name", ""))):
            return f"Invalid 'tools[{i}].function.name': string does not match pattern."
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "Invalid 'messages': empty array. Expected an array with minimum length 1."
    pending: list[str] = []
    for i, msg in enumerate(messages):
        role = msg.get("role")
        where = f"messages[{i}]"
        if role not in _ROLES:
            return f"Invalid value: '{role}'. Supported values are: {', '.join(_ROLES)}."
        if role == "tool":
            tid = msg.get("tool_call_id")
            if tid not in pending:
                return (
                    f"Invalid parameter: {where}: messages with role 'tool' must be a response "
                    "to a preceeding message with 'tool_calls'."
                )
            pending.remove(tid)
            if not isinstance(msg.get("content"), str):
                return f"Invalid type for '{where}.content': expected a string."
            continue
        if pending:
            return (
                "An assistant message with 'tool_calls' must be followed by tool messages "
                f"responding to each 'tool_call_id'. The following tool_call_ids did not have "
                f"response messages: {', '.join(pending)}"
            )
        content = msg.get("content")
        if role == "assistant":
            calls = msg.get("tool_calls") or []
            if content is None and not calls:
                return f"Invalid value for '{where}.content': expected a string, got null."
            for j, call in enumerate(calls):
                cid, fn = call.get("id"), call.get("function") or {}
                if not isinstance(cid, str) or not 1 <= len(cid) <= 40:
                    return f"Invalid '{where}.tool_calls[{j}].id': string too long."
                if not _NAME.match(str(fn.get("name", ""))):
                    return f"Invalid '{where}.tool_calls[{j}].function.name'."
                if not isinstance(fn.get("arguments"), str):
                    return f"Invalid type for '{where}.tool_calls[{j}].function.arguments'."
                if cid in pending:
                    return f"Invalid '{where}.tool_calls': duplicate id '{cid}'."
                pending.append(cid)
        elif not isinstance(content, str) or not content:
            return f"Invalid value for '{where}.content': expected a non-empty string."
    if pending:
        return (
            "An assistant message with 'tool_calls' must be followed by tool messages "
            f"responding to each 'tool_call_id'. The following tool_call_ids did not have "
            f"response messages: {', '.join(pending)}"
        )
    return None


@dataclass(frozen=True)
class Call:
    name: str
    arguments: str | Mapping[str, Any] = "{}"
    id: str | None = None


class FakeOpenAI(FakeServer):
    path = "/v1/chat/completions"
    request_id_header = "x-request-id"
    request_id_prefix = "req_fake"
    unauthorized_message = "Incorrect API key provided."
    max_tools: int | None = OPENAI_MAX_TOOLS  # None: an OpenAI-compatible server's (no cap)

    @property
    def base_url(self) -> str:
        """What to pass as the SDK's ``base_url`` (``.../v1``, like ``OPENAI_BASE_URL``)."""
        return f"{self.url}/v1"

    def completion(
        self,
        text: str | None = None,
        *,
        tool_calls: Sequence[Call] = (),
        finish_reason: str | None = None,
        refusal: str | None = None,
        function_call: Call | None = None,
        prompt_tokens: int = 10,
        completion_tokens: int = 5,
        model: str | None = None,
        usage: bool = True,
        cached_tokens: int | None = None,
    ) -> dict[str, Any]:
        """The JSON of a ``chat.completion`` reply."""
        message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": refusal}
        if tool_calls:
            message["tool_calls"] = [
                {
                    "id": c.id or f"call_fake{self.next_id():06d}",
                    "type": "function",
                    "function": {
                        "name": c.name,
                        "arguments": c.arguments
                        if isinstance(c.arguments, str)
                        else json.dumps(dict(c.arguments)),
                    },
                }
                for c in tool_calls
            ]
        if function_call is not None:
            args = function_call.arguments
            message["function_call"] = {
                "name": function_call.name,
                "arguments": args if isinstance(args, str) else json.dumps(dict(args)),
            }
        if finish_reason is None:
            finish_reason = (
                "tool_calls" if tool_calls else "function_call" if function_call else "stop"
            )
        body: dict[str, Any] = {
            "id": f"chatcmpl-fake{self.next_id():06d}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}
            ],
        }
        if usage:
            body["usage"] = {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            }
            if cached_tokens is not None:  # part of prompt_tokens, as OpenAI counts them
                body["usage"]["prompt_tokens_details"] = {
                    "cached_tokens": cached_tokens,
                    "audio_tokens": 0,
                }
        return body

    def reply(
        self,
        text: str | None = None,
        *,
        tool_calls: Sequence[Call] = (),
        finish_reason: str | None = None,
        refusal: str | None = None,
        function_call: Call | None = None,
        prompt_tokens: int = 10,
        completion_tokens: int = 5,
        model: str | None = None,
        usage: bool = True,
        cached_tokens: int | None = None,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
        chunk_delay: float = 0.0,
        break_after: int | None = None,
        break_with: Literal["error", "drop", "eof", "endless", "endless_line"] = "error",
    ) -> Self:
        """Queue a 200 completion; ``model`` defaults to the requested one (streamed:
        ``chunk_delay`` before each chunk, ``break_after`` chunks then an error)."""
        body = self.completion(
            text,
            tool_calls=tool_calls,
            finish_reason=finish_reason,
            refusal=refusal,
            function_call=function_call,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            model=model,
            usage=usage,
            cached_tokens=cached_tokens,
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
        message: str | None = None,
        *,
        type: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        delay: float = 0.0,
    ) -> Self:
        """Queue an error: documented body for ``status`` unless ``body`` is given."""
        if body is None:
            dtype, dcode, dmessage = _ERRORS.get(status, ("server_error", None, "Error"))
            body = {
                "error": {
                    "message": message or dmessage,
                    "type": type or dtype,
                    "param": None,
                    "code": code or dcode,
                }
            }
        return self.enqueue(Scripted(status=status, body=body, headers=headers or {}, delay=delay))

    def error_body(self, status: int, message: str) -> Any:
        dtype, dcode, _ = _ERRORS.get(status, ("server_error", None, ""))
        param = None
        if message.startswith("Invalid 'tools': array too long"):  # as the API sends it
            param, dcode = "tools", "array_above_max_length"
        return {"error": {"message": message, "type": dtype, "param": param, "code": dcode}}

    def ok_body(self, text: str, request_body: Any) -> Any:
        return self.completion(text)

    def validate(self, body: Any) -> str | None:
        return check_chat_request(body, max_tools=self.max_tools)

    def fill(self, body: Any, request_body: Any) -> Any:
        if isinstance(body, dict) and body.get("object") == "chat.completion" and not body["model"]:
            requested = request_body.get("model") if isinstance(request_body, dict) else None
            body = {**body, "model": requested or "gpt-fake"}
        return body

    def stream_events(self, body: Any, request_body: Any) -> list[tuple[str | None, Any]]:
        options = request_body.get("stream_options") if isinstance(request_body, dict) else None
        with_usage = isinstance(options, dict) and options.get("include_usage") is True
        head = {k: body[k] for k in ("id", "created", "model")}
        head["object"] = "chat.completion.chunk"

        def chunk(delta: dict[str, Any], finish: str | None = None) -> tuple[None, Any]:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            data = {**head, "choices": [choice]}
            if with_usage:
                data["usage"] = None
            return None, data

        [choice] = body["choices"]
        message = choice["message"]
        events: list[tuple[str | None, Any]] = [
            chunk({"role": "assistant", "content": "", "refusal": None})
        ]
        events.extend(chunk({"content": piece}) for piece in text_pieces(message["content"] or ""))
        if message.get("refusal"):
            events.append(chunk({"refusal": message["refusal"]}))
        for index, call in enumerate(message.get("tool_calls") or []):
            opening = {
                "index": index,
                "id": call["id"],
                "type": "function",
                "function": {"name": call["function"]["name"], "arguments": ""},
            }
            events.append(chunk({"tool_calls": [opening]}))
            raw = call["function"]["arguments"]
            for part in (raw[: len(raw) // 2], raw[len(raw) // 2 :]):
                if part:
                    piece = {"index": index, "function": {"arguments": part}}
                    events.append(chunk({"tool_calls": [piece]}))
        legacy = message.get("function_call")
        if legacy:  # as the older API streams it: the name, then the arguments in pieces
            events.append(chunk({"function_call": {"name": legacy["name"], "arguments": ""}}))
            raw = legacy["arguments"]
            for part in (raw[: len(raw) // 2], raw[len(raw) // 2 :]):
                if part:
                    events.append(chunk({"function_call": {"arguments": part}}))
        events.append(chunk({}, choice["finish_reason"]))
        if with_usage and body.get("usage"):
            events.append((None, {**head, "choices": [], "usage": body["usage"]}))
        events.append((None, "[DONE]"))
        return events

    def stream_more(self, body: Any) -> tuple[str | None, Any]:
        choice = {"index": 0, "delta": {"content": "and on "}, "logprobs": None, "finish_reason": None}  # fmt: skip
        head = {k: body[k] for k in ("id", "created", "model")}
        return None, {**head, "object": "chat.completion.chunk", "choices": [choice]}

    def stream_error(self) -> tuple[str | None, Any]:
        message = "The server had an error while processing your request."
        error = {"message": message, "type": "server_error", "param": None, "code": None}
        return None, {"error": error}
