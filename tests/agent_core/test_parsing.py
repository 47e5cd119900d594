"""Tests for defensive tool-argument parsing.

The corpus (``malformed_corpus.json``) is shared with engine-level tests, so its format is
checked here too. Two-object input such as ``{"a": 1}{"b": 2}`` is an error by design: the
second object may be the call the model meant, so guessing the first could run the wrong one.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
import time
from pathlib import Path
from typing import Any

import pytest

from agent_core import parsing
from agent_core.messages import ToolCall
from agent_core.model import RawToolCall
from agent_core.parsing import MAX_ARGUMENT_BYTES, ParsedArguments, parse_arguments, to_tool_call

CORPUS_PATH = Path(__file__).with_name("malformed_corpus.json")
CORPUS: list[dict[str, Any]] = json.loads(CORPUS_PATH.read_text(encoding="utf-8"))
ERROR_LIMIT = 400


def _assert_good_error(error: str | None) -> None:
    assert error is not None
    assert len(error) < ERROR_LIMIT, error
    assert "send" in error, f"error does not say what to send: {error}"
    assert "could not be parsed" not in error, error  # the catch-all for parser bugs
    error.encode("utf-8")  # shown to the model, so it must be encodable


def _assert_consistent(result: ParsedArguments) -> None:
    assert (result.arguments is None) == (result.error is not None)
    assert result.repaired == bool(result.repairs)
    if result.error is not None:
        assert not result.repairs
        _assert_good_error(result.error)
    else:
        # What the engine stores must survive a strict JSON round trip as UTF-8.
        dumped = json.dumps(result.arguments, allow_nan=False, ensure_ascii=False)
        assert json.loads(dumped.encode("utf-8")) == result.arguments


# --- the corpus -------------------------------------------------------------------------


def test_corpus_format() -> None:
    assert len(CORPUS) >= 40
    names = [case["name"] for case in CORPUS]
    assert len(names) == len(set(names)), "case names must be unique"
    for case in CORPUS:
        assert case["expect"] in ("ok", "repaired", "error"), case["name"]
        assert isinstance(case["raw"], str | dict), case["name"]
        if case["expect"] == "error":
            assert set(case) == {"name", "raw", "expect", "error_contains"}, case["name"]
            assert isinstance(case["error_contains"], str) and case["error_contains"]
        else:
            assert set(case) == {"name", "raw", "expect", "arguments"}, case["name"]
            assert isinstance(case["arguments"], dict)
    assert {case["expect"] for case in CORPUS} == {"ok", "repaired", "error"}


@pytest.mark.parametrize("case", CORPUS, ids=[case["name"] for case in CORPUS])
def test_corpus_case(case: dict[str, Any]) -> None:
    result = parse_arguments(case["raw"])
    _assert_consistent(result)
    if case["expect"] == "error":
        assert result.arguments is None
        assert result.error is not None and case["error_contains"] in result.error
    else:
        assert result.error is None, result.error
        assert result.arguments == case["arguments"]
        assert result.repaired is (case["expect"] == "repaired"), result.repairs


@pytest.mark.parametrize("case", CORPUS, ids=[case["name"] for case in CORPUS])
def test_corpus_case_through_to_tool_call(case: dict[str, Any]) -> None:
    call = to_tool_call(RawToolCall(id="call_1", name="restart_service", arguments=case["raw"]))
    assert call.id == "call_1"
    assert call.name == "restart_service"
    if case["expect"] == "error":
        assert call.arguments is None
        assert call.parse_error is not None and case["error_contains"] in call.parse_error
    else:
        assert call.parse_error is None
        assert call.arguments == case["arguments"]
    if isinstance(case["raw"], str):
        assert call.raw_arguments == re.sub("[\ud800-\udfff]", "\ufffd", case["raw"])
    else:
        assert call.raw_arguments is None
    assert ToolCall.model_validate_json(call.model_dump_json()) == call


# --- parse_arguments ----------------------------------------------------------------------


def test_public_api() -> None:
    assert set(parsing.__all__) == {
        "CALL_NAME",  # the call-name rule, which the bot's tool_label shows names by
        "MAX_ARGUMENT_BYTES",
        "MAX_DEPTH",
        "ParsedArguments",
        "ends_early",  # what the engine asks before it takes a call whose JSON was closed
        "parse_arguments",
        "to_tool_call",
        "valid_text",  # what the providers pass a reply's text and an error's message through
    }
    result = parse_arguments('{"a": 1}')
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.error = "x"  # type: ignore[misc]


def test_clean_input_is_not_repaired() -> None:
    assert parse_arguments('{"service": "api"}') == ParsedArguments(
        arguments={"service": "api"}, error=None, repaired=False, repairs=()
    )


@pytest.mark.parametrize(
    ("raw", "repair"),
    [
        ('```json\n{"a": 1}\n```', "stripped code fence"),
        ('Args: {"a": 1}', "removed surrounding text"),
        ('{"a": 1,}', "removed trailing comma"),
        ("{'a': 1}", "converted single quotes"),
        ("{'a': True}", "converted Python literals"),
        ("{a: 1}", "quoted unquoted keys"),
        ('{"a": [1', "closed truncated JSON"),
        ('{"a": "b', "closed truncated string"),
        (json.dumps('{"a": 1}'), "decoded double-encoded JSON string"),
        ("", "empty arguments treated as {}"),
        ("null", "null arguments treated as {}"),
        ('{"a": 1, "a": 2}', 'duplicate key "a": kept last value'),
        ('\ufeff{"a": 1}', "stripped BOM"),
        ('{"a": 1 /* x */}', "stripped comments"),
        ('{"a": "x\ny"}', "escaped control characters"),
        ('{"a": "\\d"}', "fixed invalid escapes"),
        ('{"a": "\\udc00"}', "replaced invalid unicode"),
    ],
)
def test_repairs_are_named(raw: str, repair: str) -> None:
    result = parse_arguments(raw)
    assert result.error is None, result.error
    assert result.repaired
    assert repair in result.repairs


def test_truncated_string_is_flagged_separately() -> None:
    # A string cut mid-value may now mean something else ("1.2" for "1.2.3"); the separate
    # note lets the engine refuse to run such a call.
    cut_value = parse_arguments('{"service": "api", "version": "1.2')
    assert cut_value.arguments == {"service": "api", "version": "1.2"}
    assert "closed truncated string" in cut_value.repairs
    cut_after_value = parse_arguments('{"service": "api", "version": "1.2.3"')
    assert "closed truncated string" not in cut_after_value.repairs
    assert "closed truncated JSON" in cut_after_value.repairs


def test_invalid_json_error_names_position_and_example() -> None:
    result = parse_arguments('{"service": "api" "force": true}')
    assert result.error == (
        "arguments are not valid JSON: Expecting ',' delimiter at line 1 column 19; "
        'send a single JSON object like {"service": "api"}'
    )


def test_none_is_treated_as_empty_object() -> None:
    result = parse_arguments(None)
    assert result.arguments == {}
    assert result.repaired


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({1: "a"}, "non-string key"),
        ({"a": {None: 1}}, "non-string key"),
        ({"a": float("nan")}, "NaN"),
        ({"a": [float("inf")]}, "Infinity"),
        ({"a": {1, 2}}, "not JSON"),
        ({"a": object()}, "not JSON"),
        ([1, 2], "must be a JSON object"),
        (42, "must be a JSON object"),
    ],
)
def test_bad_python_values_are_errors(raw: Any, fragment: str) -> None:
    result = parse_arguments(raw)
    assert result.error is not None and fragment in result.error
    _assert_good_error(result.error)


def test_dict_input_is_validated_and_cleaned() -> None:
    result = parse_arguments({"note": "bad \ud800", "items": ("a", 1)})
    assert result.arguments == {"note": "bad \ufffd", "items": ["a", 1]}
    assert result.repairs == ("replaced invalid unicode",)


def test_cyclic_dict_is_an_error_not_a_recursion_error() -> None:
    cyclic: dict[str, Any] = {}
    cyclic["self"] = cyclic
    result = parse_arguments(cyclic)
    assert result.error is not None and "nested too deeply" in result.error


@pytest.mark.parametrize("depth", [65, 1_000, 30_000])
def test_deep_nesting_is_an_error(depth: int) -> None:
    for raw in ("[" * depth + "]" * depth, '{"a": ' * depth + "1" + "}" * depth, "{" * depth):
        result = parse_arguments('{"v": ' + raw + "}")
        assert result.error is not None and "nested too deeply" in result.error


def test_size_limit() -> None:
    padding = '{"blob": "' + "x" * (MAX_ARGUMENT_BYTES - 12) + '"}'
    assert len(padding.encode()) == MAX_ARGUMENT_BYTES
    assert parse_arguments(padding).error is None
    over = '{"blob": "' + "x" * (MAX_ARGUMENT_BYTES - 11) + '"}'
    result = parse_arguments(over)
    assert result.error is not None and "bytes" in result.error
    _assert_good_error(result.error)
    # The limit is on UTF-8 bytes, not characters.
    wide = '{"blob": "' + "é" * (MAX_ARGUMENT_BYTES // 2) + '"}'
    assert parse_arguments(wide).error is not None
    # Too large is refused outright, even when a repair would have been possible.
    fenced = "```json\n" + over
    result = parse_arguments(fenced)
    assert result.error is not None and "bytes" in result.error


PATHOLOGICAL = [
    "[" * 300_000,
    "{" * 300_000,
    '"' * 250_000,
    "'" * 250_000,
    "\\" * 250_000,
    '\\"' * 120_000,
    "'\\'" * 80_000,
    '{"a":' * 50_000,
    "{a:" * 80_000,
    "," * 250_000,
    "`" * 250_000,
    "/*" * 120_000,
    "//" * 120_000,
    '{"a": "' + "\\" * 250_000,
    "{" + '"k": 1, ' * 30_000,
    "{" + ", ".join(f'"k{i}": 1, "k{i}": 2' for i in range(10_000)) + "}",
    "{'a': " + "True, " * 40_000,
    "x" * 250_000,
    "\x00" * 250_000,
    "\ud800" * 80_000,
]


@pytest.mark.parametrize("raw", PATHOLOGICAL, ids=[f"pathological-{i}" for i in range(20)])
def test_pathological_input_is_fast(raw: str) -> None:
    start = time.perf_counter()
    result = parse_arguments(raw)
    elapsed = time.perf_counter() - start
    _assert_consistent(result)
    assert elapsed < 2.0, f"took {elapsed:.2f}s"


def test_duplicate_key_notes_are_capped() -> None:
    raw = "{" + ", ".join(f'"k{i}": 1, "k{i}": 2' for i in range(100)) + "}"
    result = parse_arguments(raw)
    assert result.arguments == {f"k{i}": 2 for i in range(100)}
    assert 1 <= len(result.repairs) <= 5


# --- to_tool_call -------------------------------------------------------------------------


def _call(
    name: str = "restart_service", arguments: str | dict[str, Any] = "{}", **kw: Any
) -> ToolCall:
    return to_tool_call(
        RawToolCall(id=kw.pop("id", "toolu_1"), name=name, arguments=arguments), **kw
    )


@pytest.mark.parametrize(
    ("raw_name", "name"),
    [
        ("restart_service", "restart_service"),
        ("  restart_service\n", "restart_service"),
        ('"restart_service"', "restart_service"),
        ("'restart_service'", "restart_service"),
        ("`restart_service`", "restart_service"),
        (" ` restart_service ` ", "restart_service"),
        ("functions.restart-service_2", "functions.restart-service_2"),
        ("a" * 64, "a" * 64),
    ],
)
def test_valid_names_are_sanitized(raw_name: str, name: str) -> None:
    call = _call(raw_name, '{"service": "api"}')
    assert call.name == name
    assert call.parse_error is None
    assert call.arguments == {"service": "api"}


def test_empty_name_is_an_error() -> None:
    for raw_name in ("", "   ", '""', "``"):
        call = _call(raw_name)
        assert call.name == ""
        assert call.parse_error is not None and "tool name is empty" in call.parse_error
        _assert_good_error(call.parse_error)


@pytest.mark.parametrize(
    ("raw_name", "shown"),
    [
        ("rm -rf /", "rm -rf /"),
        ("restart service", "restart service"),
        ("restart(service)", "restart(service)"),
        ("re\nstart", "re\\nstart"),
        ("bell\x07", "bell\\x07"),
        ("bad\ud800", "bad\\ud800"),
        ("🚀launch", "🚀launch"),
    ],
)
def test_invalid_names_are_kept_escaped_with_error(raw_name: str, shown: str) -> None:
    call = _call(raw_name, '{"service": "api"}')
    assert call.name == shown
    assert call.name.isprintable()
    assert call.parse_error is not None and "is not valid" in call.parse_error
    _assert_good_error(call.parse_error)
    # The arguments parsed fine; the engine still sees them, but must refuse on parse_error.
    assert call.arguments == {"service": "api"}
    call.model_dump_json()


def test_long_name_is_truncated() -> None:
    call = _call("x" * 65)
    assert call.parse_error is not None
    assert call.name == "x" * 64 + "..."
    call = _call("\x00" * 500)
    assert len(call.name) <= 67
    assert call.parse_error is not None and len(call.parse_error) < ERROR_LIMIT


def test_bad_name_and_bad_arguments_report_both() -> None:
    call = _call("rm -rf", "restart(api)")
    assert call.arguments is None
    assert call.parse_error is not None
    assert "tool name" in call.parse_error and "not valid JSON" in call.parse_error
    assert len(call.parse_error) < ERROR_LIMIT


def test_provider_id_is_kept_verbatim() -> None:
    assert _call(id="toolu_01ABC").id == "toolu_01ABC"
    assert _call(id=" call_x ").id == " call_x "  # the result must echo exactly what was sent


def test_missing_id_is_generated_deterministically() -> None:
    first = _call(id="", arguments='{"service": "api"}')
    assert re.fullmatch(r"call_[0-9a-f]{16}", first.id)
    assert _call(id="", arguments='{"service": "api"}').id == first.id
    assert _call(id="  ", arguments='{"service": "api"}').id == first.id
    assert _call(id="", arguments='{"service": "web"}').id != first.id
    assert _call("other", id="", arguments='{"service": "api"}').id != first.id
    assert _call(id="", arguments={"service": "api"}).id != first.id
    # Two identical id-less calls in one reply must not share an id.
    assert _call(id="", arguments='{"service": "api"}', index=1).id != first.id


def test_raw_arguments_kept() -> None:
    raw = "```json\n{'service': 'api',}\n```"
    call = _call(arguments=raw)
    assert call.raw_arguments == raw
    assert call.arguments == {"service": "api"}
    assert _call(arguments={"service": "api"}).raw_arguments is None
    assert _call(arguments="not json").raw_arguments == "not json"


def test_surrogates_never_reach_the_transcript() -> None:
    call = to_tool_call(RawToolCall(id="", name="x\udc80", arguments='{"a": "\ud800"}'))
    ToolCall.model_validate_json(call.model_dump_json())


# --- never raises -------------------------------------------------------------------------

ALPHABET = [
    *'{}[]"\':,.\\/*`-+eE0123456789 \n\t',
    "true", "false", "null", "True", "None", "NaN", "Infinity", "```json", "//", "/*", "*/",
    "\\u", "\\ud800", "\ud800", "\udfff", "\x00", "\x1f", "\ufeff", "é", "🚀", "\u2028",
    '"key": ', "'k': ", "key: ", "{" * 70, "[" * 70, "]" * 70, "}" * 70,
]  # fmt: skip


def _mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 4)):
        pos = rng.randint(0, len(text))
        op = rng.random()
        if op < 0.4:
            text = text[:pos] + rng.choice(ALPHABET) + text[pos:]
        elif op < 0.6:
            text = text[:pos] + text[pos + rng.randint(1, 5) :]
        elif op < 0.75:
            text = text[:pos]  # truncation, as with max_tokens
        elif op < 0.9:
            end = rng.randint(pos, len(text))
            text = text[:end] + text[pos:end] + text[end:]
        else:
            text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 30)))
    return text


def test_fuzz_never_raises() -> None:
    # hypothesis is not installed in this project's venv, so this is a seeded random fuzz.
    rng = random.Random(0)
    seeds = [
        case["raw"] for case in CORPUS if isinstance(case["raw"], str) and len(case["raw"]) < 500
    ]
    outcomes = {"ok": 0, "repaired": 0, "error": 0}
    for _ in range(5_000):
        raw = _mutate(rng, rng.choice(seeds))
        result = parse_arguments(raw)
        _assert_consistent(result)
        if result.error is None and not result.repaired:
            # Unrepaired output must be exactly what a strict parser makes of the input.
            assert json.loads(raw) == result.arguments
        outcomes["error" if result.error else "repaired" if result.repaired else "ok"] += 1
        call = to_tool_call(RawToolCall(id="", name=raw[:80], arguments=raw))
        ToolCall.model_validate_json(call.model_dump_json())
    assert all(outcomes.values()), outcomes  # the fuzz reaches every kind of outcome


def test_arguments_too_big_are_not_kept_whole_nor_sent_back() -> None:
    # A 10 MB arguments string was refused, but kept whole as raw_arguments: the
    # transcript grew by 10 MB and the next request sent it back (OpenAI's function
    # arguments), so the provider refused that request and the session failed.
    from agent_core.providers.convert_openai import arguments_string

    huge = '{"service": "' + "a" * 10_000_000 + '"}'
    call = parsing.to_tool_call(RawToolCall(id="c1", name="restart", arguments=huge))
    assert call.arguments is None and call.parse_error and "over" in call.parse_error
    assert call.raw_arguments is not None and len(call.raw_arguments) <= 2_000
    assert call.raw_arguments.startswith('{"service": "aaa')
    assert len(arguments_string(call)) <= 2_000
