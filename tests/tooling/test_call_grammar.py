"""The offline model's ``call`` grammar: any registered tool, by name, typed by its schema;
and ``help`` lists the registered tools."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agent_core.call_grammar import CallSyntaxError, ParsedCall, help_text, parse_call
from agent_core.demo_fleet import demo_registry
from agent_core.messages import UserMessage
from agent_core.model import ToolSpec
from agent_core.offline import OfflineModel

SCALE = ToolSpec(
    name="ops__scale",
    description="Scale a deployment.\n\nMore words the list leaves out.",
    input_schema={
        "type": "object",
        "properties": {
            "deployment": {"type": "string"},
            "replicas": {"type": "integer"},
            "force": {"type": "boolean"},
            "version": {"type": "string"},
            "labels": {"type": "object"},
            "note": {},
        },
    },
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call ops__scale deployment=api replicas=3", {"deployment": "api", "replicas": 3}),
        (
            "<@U0SIGNOFF> call ops__scale force=true version=1.10",
            {"force": True, "version": "1.10"},
        ),
        (
            "call ops__scale note=\"two words\" deployment='a b'",
            {"note": "two words", "deployment": "a b"},
        ),
        ('call ops__scale labels=\'{"app": "api"}\'', {"labels": {"app": "api"}}),
        ("call ops__scale replicas=three", {"replicas": "three"}),  # validation will say why
        ("call ops__scale note=3 deployment=007", {"note": 3, "deployment": "007"}),
        ("CALL ops__scale note=“curly quotes”", {"note": "curly quotes"}),
        ("call ops__scale", {}),
    ],
)
def test_key_value_arguments_are_typed_by_the_schema(text: str, expected: dict[str, Any]) -> None:
    text = text.replace("<@U0SIGNOFF> ", "")
    assert parse_call(text, [SCALE]) == ParsedCall(name="ops__scale", arguments=expected)


def test_json_arguments_are_passed_as_typed_and_typed_escapes_stay_typed() -> None:
    # Ingest undid Slack's escapes already: what looks like one here, a person typed.
    parsed = parse_call('call ops__scale {"note": "<b> &lt;!here&gt; &amp; c"}', [SCALE])
    assert parsed == ParsedCall(
        name="ops__scale", arguments='{"note": "<b> &lt;!here&gt; &amp; c"}'
    )
    broken = parse_call('call ops__scale {"note": ', [SCALE])
    assert broken is not None and broken.arguments == '{"note":'  # parsed like a model's


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("call ops__scale replicas", "I could not read `replicas`"),
        ('call ops__scale note="open', "No closing quotation"),
        ("call ops__scale a=1 a=2", "`a` is given twice"),
    ],
)
def test_unreadable_calls_say_how_to_write_them(text: str, error: str) -> None:
    with pytest.raises(CallSyntaxError, match=error):
        parse_call(text, [SCALE])


def test_other_messages_are_not_calls() -> None:
    assert parse_call("restart api", [SCALE]) is None
    assert parse_call("please call me later", [SCALE]) is None


def test_help_lists_every_tool_with_its_first_line() -> None:
    text = help_text([SCALE, *demo_registry().specs()])
    assert "• `ops__scale`: Scale a deployment." in text
    assert "More words" not in text
    assert "`call <tool> key=value …`" in text
    assert "`restart <service>`" in text  # the demo phrasebook, since the fleet is there
    assert "restart <service>" not in help_text([SCALE])
    assert "no tools are available to me right now" in help_text([])


async def ask(text: str, tools: list[ToolSpec]) -> Any:
    return await OfflineModel().complete(
        system="", messages=[UserMessage(text=text, user="U0A", ts="1.1")], tools=tools
    )


async def test_the_offline_model_calls_any_tool_and_answers_syntax_errors() -> None:
    reply = await ask("<@U0SIGNOFF> call ops__scale deployment=api replicas=2", [SCALE])
    (call,) = reply.tool_calls
    assert call.name == "ops__scale"
    assert json.loads(str(call.arguments)) == {"deployment": "api", "replicas": 2}
    unknown = await ask("call nope x=1", [SCALE])  # the executor says it is unknown
    assert unknown.tool_calls[0].name == "nope"
    bad = await ask("call ops__scale replicas", [SCALE])
    assert not bad.tool_calls and "I could not read `replicas`" in bad.text


@pytest.mark.parametrize("properties", [[], None, "a", {"n": None}, {"n": []}])
def test_a_schema_of_the_wrong_shape_types_nothing_and_is_never_a_crash(properties: Any) -> None:
    # An MCP server's schema is whatever it sent ("properties": [] passes the SDK): the
    # call is read untyped and validation says what is wrong, never an AttributeError.
    spec = ToolSpec(
        name="ops__x", description="", input_schema={"type": "object", "properties": properties}
    )
    assert parse_call("call ops__x n=3 s=a", [spec]) == ParsedCall(
        name="ops__x", arguments={"n": 3, "s": "a"}
    )
