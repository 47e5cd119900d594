"""The provider-neutral shaping step shared by both converters."""

from __future__ import annotations

import json
import re
from typing import Any

from agent_core.messages import (
    AssistantMessage,
    EventMessage,
    Message,
    ToolCall,
    ToolResultMessage,
    UserMessage,
)
from agent_core.providers import portable_id, portable_name
from agent_core.providers import to_anthropic as _to_anthropic
from agent_core.providers import to_openai as _to_openai
from agent_core.providers.transcript import MISSING_RESULT, AssistantTurn, UserTurn, turns

VALID = re.compile(r"^[a-zA-Z0-9_-]{1,40}$")


def to_anthropic(messages: list[Message]) -> Any:
    """The converter's output as plain JSON (easy to index in assertions)."""
    return json.loads(json.dumps(_to_anthropic(messages)))


def to_openai(system: str, messages: list[Message]) -> Any:
    return json.loads(json.dumps(_to_openai(system, messages)))


def test_portable_id() -> None:
    for ok in ("toolu_01A09q90qw90lq917835lq9", "call_abc123", "a-b_c"):
        assert portable_id(ok) == ok
    odd = ["call:0", "call.1", "", "x" * 64, "ü-ñ", "call 1", "call:0 "]
    mapped = [portable_id(i) for i in odd]
    assert all(VALID.match(m) for m in mapped)
    assert len(set(mapped)) == len(mapped)
    assert mapped == [portable_id(i) for i in odd]  # deterministic


def test_portable_name_and_invalid_stored_names() -> None:
    assert portable_name("get_pods") == "get_pods"
    assert portable_name("functions.get pods!") == "functions_get_pods_"
    assert portable_name("") == "invalid_tool_name"
    assert len(portable_name("n" * 100)) == 64
    bad = ToolCall(id="a", name="ops.get", parse_error='tool name "ops.get" is not valid')
    messages: list[Message] = [UserMessage(text="go"), AssistantMessage(tool_calls=(bad,))]
    assert to_anthropic(messages)[1]["content"][0]["name"] == "ops_get"
    assert to_openai("", messages)[1]["tool_calls"][0]["function"]["name"] == "ops_get"


def test_results_are_paired_and_missing_ones_synthesized() -> None:
    call_a = ToolCall(id="a", name="t", arguments={})
    call_b = ToolCall(id="b", name="t", arguments={})
    shaped = turns(
        [
            UserMessage(text="go"),
            AssistantMessage(tool_calls=(call_a, call_b)),
            EventMessage(text="note first"),
            ToolResultMessage(call_id="a", name="t", content="done"),
            ToolResultMessage(call_id="a", name="t", content="again", status="error"),
        ]
    )
    assert isinstance(shaped[1], AssistantTurn)
    answers = shaped[2]
    assert isinstance(answers, UserTurn)
    assert [(r.call_id, r.content, r.status) for r in answers.results] == [
        ("a", "done", "ok"),
        ("b", MISSING_RESULT, "error"),
    ]
    assert answers.texts == ["note first", "[result of tool t (call a), status error]\nagain"]


def test_trailing_calls_get_answers_and_blank_text_is_dropped() -> None:
    messages: list[Message] = [
        UserMessage(text="   "),
        UserMessage(text="real"),
        AssistantMessage(text="  ", tool_calls=(ToolCall(id="z", name="t", arguments={}),)),
    ]
    anthropic = to_anthropic(messages)
    assert [m["role"] for m in anthropic] == ["user", "assistant", "user"]
    assert anthropic[1]["content"] == [{"type": "tool_use", "id": "z", "name": "t", "input": {}}]
    openai = to_openai("", messages)
    assert openai[-1] == {
        "role": "tool",
        "tool_call_id": "z",
        "content": f"[status: error] {MISSING_RESULT}",
    }


def test_empty_tool_output_is_not_sent_empty() -> None:
    messages: list[Message] = [
        UserMessage(text="go"),
        AssistantMessage(tool_calls=(ToolCall(id="a", name="t", arguments={}),)),
        ToolResultMessage(call_id="a", name="t", content=""),
    ]
    assert to_anthropic(messages)[-1]["content"] == [
        {"type": "tool_result", "tool_use_id": "a", "content": "(no output)"}
    ]


def test_consecutive_assistant_records_merge() -> None:
    messages: list[Message] = [
        UserMessage(text="go"),
        AssistantMessage(text="part one", stop_reason="max_tokens"),
        AssistantMessage(text="part two", tool_calls=(ToolCall(id="a", name="t", arguments={}),)),
        ToolResultMessage(call_id="a", name="t", content="ok"),
    ]
    sent = to_openai("sys", messages)
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "tool"]
    assert sent[2]["content"] == "part one\n\npart two"


def test_empty_transcript() -> None:
    assert to_anthropic([]) == []
    assert to_openai("", []) == []


def test_repeated_call_ids_get_aliases_and_results_in_order() -> None:
    twice = ToolCall(id="call_1", name="t", arguments={"n": 1})
    again = ToolCall(id="call_1", name="t", arguments={"n": 2})
    messages: list[Message] = [
        UserMessage(text="go"),
        AssistantMessage(tool_calls=(twice, again)),
        ToolResultMessage(call_id="call_1", name="t", content="first"),
        ToolResultMessage(call_id="call_1", name="t", content="second"),
    ]
    sent = to_anthropic(messages)
    uses = [b["id"] for b in sent[1]["content"]]
    assert uses[0] == "call_1" and uses[1] != "call_1" and VALID.match(uses[1])
    results = [(b["tool_use_id"], b["content"]) for b in sent[2]["content"]]
    assert results == [(uses[0], "first"), (uses[1], "second")]
    openai = to_openai("", messages)
    assert [m["tool_call_id"] for m in openai[2:]] == uses
