"""A schema's ``pattern`` that Python's regex engine can take exponential time over never
runs in signoff: one argument written by a model (that is, by anyone in the channel)
would hold the GIL and stall every thread. An MCP server's is left for the server to
check; a command tool's is refused at start-up."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from engine_support import THREAD, message
from mcp_fixture_kit import records, toml_str, write_config

from agent_core.engine import Engine
from agent_core.surface import RecordingSurface
from agent_core.tools.command import CommandTool
from agent_core.tools.json_schema import SchemaChecker
from agent_core.tools.regex_risk import backtracking_risk, checkable_schema
from agent_core.tools.specs import CommandSpec
from bot.config_file import load_config
from bot.errors import ConfigError

if TYPE_CHECKING:
    from conftest import SignoffFactory

RAW = Path(__file__).resolve().parent / "raw_mcp_server.py"
# 2**60 ways to split it for ^(a+)+$: the old check never came back.
HOSTILE = "a" * 60 + "!"


@pytest.mark.parametrize(
    "pattern",
    [
        r"^(a+)+$",
        r"^([a-z0-9]+-?)+$",
        r"^(\w+\s?)*$",
        r"(a|ab)+",
        r"(.*a){3}",
        r"((ab)*)+",
        r"(?=(a+)+)b",
        r"(?:(?:x+x+)+)y",
    ],
)
def test_a_repeat_that_can_split_text_many_ways_is_a_risk(pattern: str) -> None:
    assert backtracking_risk(pattern)


@pytest.mark.parametrize(
    "pattern",
    [
        r"^[a-z0-9-]{1,63}$",
        r"^(GET|POST)+$",
        r"^[a-z]++(-[a-z]++)*$",  # possessive: gives nothing back
        r"^(?>[a-z]+-?)+$",  # atomic
        r"\d+\.\d+",
        r"(ab){2}",
        r"^(prod|staging)$",
        "(",  # not a pattern at all: its caller says so
    ],
)
def test_patterns_without_nested_choices_are_not(pattern: str) -> None:
    assert backtracking_risk(pattern) is None


def test_only_risky_patterns_leave_the_schema_and_data_stays_as_it_is() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "string", "pattern": "^(a+)+$"},
            "b": {"type": "string", "pattern": "^[0-9]+$"},
            "pattern": {"type": "string"},  # a property named "pattern"
            "c": {"enum": [{"pattern": "^(a+)+$"}]},
            "d": {
                "type": "object",
                "patternProperties": {"^(x+)+$": {"type": "string"}},
                "additionalProperties": False,
            },
        },
    }
    checkable, dropped = checkable_schema(schema)
    assert dropped == ("^(a+)+$", "^(x+)+$")
    properties = checkable["properties"]
    assert "pattern" not in properties["a"] and properties["b"]["pattern"] == "^[0-9]+$"
    assert properties["pattern"] == {"type": "string"}
    assert properties["c"] == schema["properties"]["c"]  # type: ignore[index]
    assert properties["d"] == {"type": "object"}
    checker = SchemaChecker("ops__x", schema)
    assert checker.validate({"a": HOSTILE, "b": "7", "d": {"xx!": 1}})["a"] == HOSTILE
    with pytest.raises(ValueError, match="b: 'x' does not match"):
        checker.validate({"a": "a", "b": "x"})


def config(path: Path, schema: Mapping[str, object], record: Path) -> Path:
    parts = [
        sys.executable,
        str(RAW),
        "--record",
        str(record),
        "--input-schema",
        json.dumps(schema),
    ]
    argv = "[" + ", ".join(toml_str(p) for p in parts) + "]"
    return write_config(
        path,
        '[policy.default]\nexpires_after = "7d"\n\n'
        f'[mcp.servers.ops]\ncommand = {argv}\nno_approval = []\ntimeout = "10s"\n',
    )


async def ask(engine: Engine, text: str) -> None:
    await engine.ingest(message(text, ts="1700000000.000100", thread=THREAD))
    await engine.idle()


async def test_an_mcp_servers_risky_pattern_is_left_to_the_server_and_said_once(
    open_signoff: SignoffFactory,
    tmp_path: Path,
    record: Path,
    surface: RecordingSurface,
    caplog: pytest.LogCaptureFixture,
) -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "string", "pattern": "^(a+)+$"},
            "b": {"type": "string", "pattern": "^[0-9]+$"},
            "c": {"type": "string", "pattern": "^[0-9]+[0-9]+[0-9]+$"},
        },
    }
    engine = await open_signoff(config(tmp_path / "signoff.toml", schema, record))
    caplog.set_level(logging.WARNING, logger="signoff.tools")
    arguments = json.dumps({"a": HOSTILE, "b": "42"})
    await ask(engine, f"call ops__get_x {arguments}")
    assert list(engine.errors) == []
    (card,) = surface.cards  # checked (b) and asked for, not stalled on a
    assert card.arguments == {"a": HOSTILE, "b": "42"}
    # An approver's edit is checked the same way: b still, a never here.
    valid, problems = engine.check_edit(card.id, values={"a": HOSTILE, "b": "x"})
    assert valid == {} and set(problems) == {"b"}, problems
    valid, problems = engine.check_edit(card.id, values={"a": HOSTILE, "b": "7"})
    assert problems == {} and valid["a"] == HOSTILE
    # Nor a pattern on text too long to bound its time (a 3,000-character form field).
    long = "1" * 3_000 + "x"
    valid, problems = engine.check_edit(card.id, values={"a": "a", "b": "7", "c": long})
    assert problems == {} and valid["c"] == long
    said = [r.getMessage() for r in caplog.records if "^(a+)+$" in r.getMessage()]
    assert len(said) == 1 and "ops__get_x" in said[0] and "the server" in said[0], said
    assert records(record) == []


def test_a_command_tools_risky_pattern_is_refused_with_the_way_out(tmp_path: Path) -> None:
    path = write_config(
        tmp_path / "c.toml",
        '[commands.restart]\ndescription = "x"\nargv = ["k", "{x}"]\n'
        'params.x = { pattern = "^([a-z0-9]+-?)+$" }\n',
    )
    with pytest.raises(ConfigError, match=r"commands\.restart.*params\.x") as failed:
        load_config(path, {})
    said = str(failed.value)
    assert "^([a-z0-9]+-?)+$" in said and "possessive" in said and "\n" not in said


def test_a_pattern_is_run_only_on_text_short_enough_to_bound_its_time() -> None:
    # Three overlapping repeats in a row are not flagged, but cost n**3 steps: over 5,000
    # digits and an "x", minutes. Longer text is the server's to check; shorter still ours.
    checker = SchemaChecker("ops__x", {"properties": {"a": {"pattern": "^[0-9]+[0-9]+[0-9]+$"}}})
    long = "1" * 5_000 + "x"
    assert checker.validate({"a": long}) == {"a": long}
    with pytest.raises(ValueError, match="a: '12x' does not match"):
        checker.validate({"a": "12x"})
    # A name is matched against patternProperties: a long one is refused outright.
    names = SchemaChecker("ops__x", {"patternProperties": {"^[a-z]+[a-z]+[a-z]+$": {}}})
    with pytest.raises(ValueError, match="property name over 1,024 characters"):
        names.validate({"a" * 5_000 + "!": 1})


def test_a_command_value_too_long_for_its_pattern_to_be_checked_is_refused() -> None:
    spec = CommandSpec.model_validate(
        {"description": "x", "argv": ["k", "{x}"], "params": {"x": {"pattern": "^[0-9]+$"}}}
    )
    tool = CommandTool(name="restart", spec=spec)
    with pytest.raises(ValueError, match="over 1,024 characters"):
        tool.validate({"x": "1" * 2_000})
    assert tool.validate({"x": "1" * 1_024}) == {"x": "1" * 1_024}
