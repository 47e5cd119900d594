"""The offline model: a small rule-based stand-in so signoff runs with no API key.

It understands ``call <tool> key=value …`` / ``call <tool> {json}`` for every registered
tool (``call_grammar``), and for the demo fleet ``status of <service>``, ``restart
<service>``, ``deploy <service> <version>`` and ``scale <service> to <n>``; otherwise it
lists the tools it has, and it summarises tool results. It answers every message since its
last answer (several can be drained into one turn): one call per request, a word for what
it did not understand, and the outcome of anything settled meanwhile. It speaks through
tool calls like a real model, so everything around it — gates, capsules, resume — is the
real path.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence

from .call_grammar import CallSyntaxError, help_text, parse_call
from .messages import (
    AssistantMessage,
    EventMessage,
    Message,
    ToolResultMessage,
    Usage,
    UserMessage,
)
from .model import ModelReply, RawToolCall, ToolSpec

__all__ = ["OfflineModel"]

_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
_SERVICE = r"([a-z][a-z0-9_-]{0,30})"
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"\bstatus\s+(?:of\s+)?(?:the\s+)?{_SERVICE}\b"), "service_status"),
    (re.compile(rf"\bhow\s+is\s+(?:the\s+)?{_SERVICE}\b"), "service_status"),
    (re.compile(rf"\brestart\s+(?:the\s+)?{_SERVICE}\b"), "restart_service"),
    (
        re.compile(
            rf"\bdeploy\s+(?:the\s+)?{_SERVICE}(?:\s+service)?\s+(?:version\s+|to\s+)?(\S+)"
        ),
        "deploy_service",
    ),
    (re.compile(rf"\bscale\s+(?:the\s+)?{_SERVICE}(?:\s+service)?\s+to\s+(\d+)"), "scale_service"),
]


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


class OfflineModel:
    @property
    def name(self) -> str:
        return "offline"

    async def complete(
        self, *, system: str, messages: Sequence[Message], tools: Sequence[ToolSpec]
    ) -> ModelReply:
        usage_in = _tokens(system) + sum(_tokens(m.model_dump_json()) for m in messages[-20:])
        last = messages[-1] if messages else None
        if isinstance(last, ToolResultMessage | EventMessage):
            text = self._summarise(messages)
            return self._reply(text=text, usage_in=usage_in)
        if isinstance(last, UserMessage):
            return self._answer(messages, tools, usage_in)
        return self._reply(text=help_text(tools), usage_in=usage_in)

    def _answer(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec], usage_in: int
    ) -> ModelReply:
        """One call per request since the last answer; words for the rest."""
        since: list[Message] = []
        for message in reversed(messages):
            if isinstance(message, AssistantMessage):
                break
            since.append(message)
        since.reverse()
        known = {t.name for t in tools}
        notes = [_describe(m) for m in since if isinstance(m, ToolResultMessage | EventMessage)]
        calls: list[RawToolCall] = []
        unclear = 0
        for message in (m for m in since if isinstance(m, UserMessage)):
            try:
                asked = parse_call(_MENTION.sub(" ", message.text), tools)
            except CallSyntaxError as exc:
                notes.append(str(exc))
                continue
            call = (asked and (asked.name, asked.arguments)) or self._understand(
                message.text, known
            )
            if call is None:
                unclear += 1
                continue
            name, args = call
            raw = args if isinstance(args, str) else json.dumps(args, sort_keys=True)
            if any(c.name == name and c.arguments == raw for c in calls):
                continue  # the same request twice in one turn: asked once
            digest = hashlib.sha256(f"{message.ts}{name}{raw}".encode()).hexdigest()[:12]
            calls.append(RawToolCall(id=f"call_{digest}", name=name, arguments=raw))
        if not calls:
            return self._reply(text="\n".join([*notes, help_text(tools)]), usage_in=usage_in)
        if unclear:
            notes.append(
                f"(I did not understand {unclear} of your messages; `help` lists what I do.)"
            )
        return self._reply(text="\n".join(notes), calls=tuple(calls), usage_in=usage_in)

    def _reply(
        self, *, text: str, usage_in: int, calls: tuple[RawToolCall, ...] = ()
    ) -> ModelReply:
        out = _tokens(text) + sum(_tokens(str(c.arguments)) for c in calls)
        return ModelReply(
            text=text,
            tool_calls=calls,
            stop_reason="tool_use" if calls else "end_turn",
            usage=Usage(input_tokens=usage_in, output_tokens=out),
            model="offline",
        )

    @staticmethod
    def _understand(text: str, known: set[str]) -> tuple[str, dict[str, object] | str] | None:
        plain = _MENTION.sub(" ", text).lower()
        for pattern, name in _PATTERNS:
            match = pattern.search(plain)
            if not match or name not in known:
                continue
            service = match.group(1)
            if name == "deploy_service":
                return name, {"service": service, "version": match.group(2).strip(".,!?")}
            if name == "scale_service":
                return name, {"service": service, "replicas": int(match.group(2))}
            return name, {"service": service}
        return None

    @staticmethod
    def _summarise(messages: Sequence[Message]) -> str:
        """Describe every result since the model last spoke."""
        recent: list[ToolResultMessage | EventMessage] = []
        for message in reversed(messages):
            if isinstance(message, ToolResultMessage | EventMessage):
                recent.append(message)
            elif isinstance(message, AssistantMessage | UserMessage):
                break
        lines = [_describe(m) for m in reversed(recent)]
        return "\n".join(line for line in lines if line) or "Nothing to report."


def _describe(message: ToolResultMessage | EventMessage) -> str:
    if isinstance(message, EventMessage):
        return message.text
    status = message.status
    if status == "ok":
        return f"✅ `{message.name}` finished: {_brief(message.content)}"
    if status == "pending":
        return f"⏳ `{message.name}` is waiting for approval."
    if status in ("denied", "refused"):
        return f"🚫 I did not run `{message.name}`: {message.content}"
    if status == "expired":
        return f"⌛ `{message.name}` was not run: {message.content}"
    if status == "uncertain":
        return f"⚠️ `{message.name}` may or may not have run: {message.content}"
    return f"❌ `{message.name}` failed: {message.content}"


def _brief(content: str) -> str:
    try:
        data = json.loads(content)
    except json.JSONDecodeError:
        return content[:300]
    if isinstance(data, dict):
        nested = data.get("state")
        state: dict[str, object] = nested if isinstance(nested, dict) else data
        parts = [f"{k}={v}" for k, v in state.items() if k not in ("key",)]
        return ", ".join(parts)[:300]
    return content[:300]
