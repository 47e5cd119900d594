"""Helpers for the provider tests: fake keys, an injectable sleep, fast settings, and the
engine's defensive parse of a reply into a transcript record (so tests can build
transcripts the way the engine will)."""

from __future__ import annotations

import json
from typing import Any

from agent_core.messages import AssistantMessage, ToolCall
from agent_core.model import ModelReply
from agent_core.providers import AnthropicModel, ModelSettings, RetryPolicy

ANTHROPIC_KEY = "sk-ant-api03-TESTKEY-never-leak-7c1e9f"
OPENAI_KEY = "sk-proj-TESTKEY-never-leak-42aa0b"


class SleepRecorder:
    """Stands in for ``asyncio.sleep``: records the waits, returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def fast(attempts: int = 4, timeout_s: float = 5.0, max_tokens: int = 1024) -> ModelSettings:
    return ModelSettings(
        max_tokens=max_tokens,
        timeout_s=timeout_s,
        retry=RetryPolicy(max_attempts=attempts, base_delay_s=0.5, max_delay_s=8.0),
    )


def retrying_claude(base_url: str, sleeps: SleepRecorder, attempts: int = 4) -> AnthropicModel:
    """Claude on the fake at ``base_url``, tried up to ``attempts`` times, waits recorded."""
    return AnthropicModel(
        "claude-sonnet-4-6",
        api_key=ANTHROPIC_KEY,
        base_url=base_url,
        settings=fast(attempts=attempts),
        sleep=sleeps,
    )


def record(reply: ModelReply) -> AssistantMessage:
    """What the engine stores for a reply: arguments parsed defensively."""
    calls = []
    for raw in reply.tool_calls:
        if isinstance(raw.arguments, dict):
            calls.append(ToolCall(id=raw.id, name=raw.name, arguments=raw.arguments))
            continue
        parsed: Any
        try:
            parsed = json.loads(raw.arguments)
        except ValueError as exc:
            calls.append(
                ToolCall(
                    id=raw.id, name=raw.name, raw_arguments=raw.arguments, parse_error=str(exc)
                )
            )
            continue
        if isinstance(parsed, dict):
            calls.append(
                ToolCall(id=raw.id, name=raw.name, arguments=parsed, raw_arguments=raw.arguments)
            )
        else:
            calls.append(
                ToolCall(
                    id=raw.id,
                    name=raw.name,
                    raw_arguments=raw.arguments,
                    parse_error="arguments are not a JSON object",
                )
            )
    return AssistantMessage(
        text=reply.text,
        tool_calls=tuple(calls),
        stop_reason=reply.stop_reason,
        model=reply.model,
        usage=reply.usage,
    )
