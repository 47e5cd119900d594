"""A shared sample transcript and tool set for the provider tests."""

from __future__ import annotations

import hashlib

from agent_core.messages import (
    AssistantMessage,
    EventMessage,
    Message,
    ToolCall,
    ToolResultMessage,
    Usage,
    UserMessage,
)
from agent_core.model import ToolSpec

SYSTEM = "You are signoff, a careful ops assistant."

TOOLS = [
    ToolSpec(
        name="get_pods",
        description="List the pods of a namespace.",
        input_schema={
            "type": "object",
            "properties": {"ns": {"type": "string"}},
            "required": ["ns"],
        },
    ),
    ToolSpec(
        name="restart",
        description="Restart a deployment (needs approval).",
        input_schema={"type": "object", "properties": {"deploy": {"type": "string"}}},
    ),
]

FOREIGN_ID = "call_xyz.42"
"""An id with a character Anthropic refuses."""
FOREIGN_ID_PORTABLE = "call_xyz_42_" + hashlib.sha256(FOREIGN_ID.encode()).hexdigest()[:10]
BROKEN_ARGS = '{"ns": '

TRANSCRIPT: list[Message] = [
    UserMessage(text="Why is checkout down?", user="U1", ts="1.0"),
    AssistantMessage(
        text="Let me check the pods.",
        tool_calls=(
            ToolCall(id="toolu_01A", name="get_pods", arguments={"ns": "checkout"}),
            ToolCall(id=FOREIGN_ID, name="restart", arguments={"deploy": "checkout"}),
            ToolCall(
                id="toolu_01C",
                name="get_pods",
                raw_arguments=BROKEN_ARGS,
                parse_error="Expecting value: line 1 column 8",
            ),
        ),
        stop_reason="tool_use",
        model="claude-sonnet-4-5",
        usage=Usage(input_tokens=100, output_tokens=20),
    ),
    ToolResultMessage(call_id="toolu_01A", name="get_pods", content="checkout-1 CrashLoopBackOff"),
    ToolResultMessage(
        call_id=FOREIGN_ID, name="restart", content="denied by @bob", status="denied"
    ),
    ToolResultMessage(
        call_id="toolu_01C",
        name="get_pods",
        content="arguments were not valid JSON: Expecting value: line 1 column 8",
        status="error",
    ),
    EventMessage(text="@bob later approved the restart."),
    UserMessage(text="Any update?", user="U1", ts="2.0"),
]
