"""Defensive parsing of tool-call arguments as LLMs send them: fenced, commented, truncated,
Python-flavoured or double-encoded. What has one obvious reading is repaired (and recorded, so
the engine can decide whether to trust it); anything else becomes a short error shown to the
model so it can retry. Nothing raises: a parser crash would cost the turn, not one call."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from json import JSONDecodeError
from typing import Any, cast

from .json_normalize import TooDeep, normalize, note
from .messages import ToolCall
from .model import RawToolCall

__all__ = [
    "CALL_NAME",
    "MAX_ARGUMENT_BYTES",
    "MAX_DEPTH",
    "ParsedArguments",
    "ends_early",
    "parse_arguments",
    "to_tool_call",
    "valid_text",
]

MAX_ARGUMENT_BYTES = 256 * 1024
MAX_DEPTH = 64
# What is kept of arguments refused for their size: enough to see what they were.
_RAW_KEPT = 1024

_HINT = 'send a single JSON object like {"service": "api"}'
_TOO_DEEP = f"arguments are nested too deeply (over {MAX_DEPTH} levels); send a flatter object"
_NON_FINITE = "arguments contain NaN, Infinity or a number too large; send finite numbers"
_NAME_HINT = "send the exact name of one of the available tools"

# The repairs that guess how text ending before its JSON does goes on: "closed", a call's
# ``{"replicas": 3`` reads as 3 replicas where 30 were on their way.
_CUT_SHORT = ("closed truncated JSON", "closed truncated string")
# A call whose name breaks this fails with a note; its name is then the model's text.
CALL_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
# The closing fence is optional: a reply cut off by max_tokens never gets one.
_FENCE_RE = re.compile(r"```[\w+-]*[^\S\n]*\n?(.*?)(?:```|\Z)", re.DOTALL)
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_TRAILING_COMMA_RE = re.compile(r'("[^"\\]*(?:\\.[^"\\]*)*")|,(?=\s*[}\]])', re.DOTALL)
_WS = " \t\n\r"  # JSON's whitespace; str.strip() would also drop e.g. U+2028, which JSON rejects


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedArguments:
    """Either ``arguments`` or ``error`` is set; ``repairs`` says what had to be fixed."""

    arguments: dict[str, Any] | None
    error: str | None = None
    repaired: bool = False
    repairs: tuple[str, ...] = ()


class _Reject(Exception):
    """A definite problem: reported to the model as is, no further repair attempted."""


def parse_arguments(raw: str | dict[str, Any] | None) -> ParsedArguments:
    """Parse tool-call arguments as a provider sent them; never raises."""
    repairs: list[str] = []
    try:
        if isinstance(raw, dict):  # an object (Anthropic's): held to the same size cap
            arguments: dict[str, Any] = _check(raw, 1, repairs)
            _check_size(json.dumps(arguments, ensure_ascii=False))
        elif isinstance(raw, str) or raw is None:
            arguments = _parse_text(raw or "", repairs, level=0)
        else:
            raise _Reject(f"arguments must be a JSON object, not {type(raw).__name__}; {_HINT}")
    except _Reject as exc:
        return ParsedArguments(arguments=None, error=str(exc))
    except Exception as exc:  # a parser bug must cost one call, not the whole turn
        return ParsedArguments(arguments=None, error=f"arguments could not be parsed ({exc!r:.80})")
    return ParsedArguments(arguments=arguments, repaired=bool(repairs), repairs=tuple(repairs))


def ends_early(raw: str | dict[str, Any]) -> bool:
    """Whether ``raw`` reads as an object only once the parser has closed it (``_CUT_SHORT``):
    arguments cut off midway, whatever the reply's stop reason says of them."""
    if not isinstance(raw, str):
        return False
    return any(repair in _CUT_SHORT for repair in parse_arguments(raw).repairs)


def valid_text(text: str) -> str:
    """``text`` with each lone surrogate (JSON may spell half a pair: ``\\ud800``) replaced
    by U+FFFD: UTF-8 cannot encode one, so it would break any record it is written in."""
    return _SURROGATE_RE.sub("\ufffd", text)


def to_tool_call(raw: RawToolCall, *, index: int = 0) -> ToolCall:
    """Build the transcript's ``ToolCall``; never raises. Pass ``index`` (position in the
    reply) so generated ids stay distinct when a model repeats a call without ids."""
    parsed = parse_arguments(raw.arguments)
    name = raw.name.strip().strip("\"'`").strip()
    name_error = None
    if not name:
        name_error = f"tool name is empty; {_NAME_HINT}"
    elif not CALL_NAME.fullmatch(name):
        name = _show(name)
        rule = 'use 1-64 letters, digits, "_", "." or "-"'
        name_error = f'tool name "{name}" is not valid ({rule}); {_NAME_HINT}'
    call_id = _SURROGATE_RE.sub("\ufffd", raw.id)
    if not call_id.strip():
        # Deterministic, so replaying or resuming a session generates the same id again.
        seed = f"{index}\x00{raw.name}\x00{raw.arguments!r}".encode("utf-8", "surrogatepass")
        call_id = "call_" + hashlib.sha256(seed).hexdigest()[:16]
    raw_text = raw.arguments if isinstance(raw.arguments, str) else None
    if raw_text is not None and len(raw_text) > MAX_ARGUMENT_BYTES:
        # Refused for its size: kept whole, it would bloat the transcript and go back to
        # the provider with the next request (OpenAI's arguments string), which refuses it.
        raw_text = raw_text[:_RAW_KEPT] + "…"
    return ToolCall(
        id=call_id,
        name=name,
        arguments=parsed.arguments,
        # Lone surrogates cannot be encoded as UTF-8, so they would break the transcript write.
        raw_arguments=None if raw_text is None else _SURROGATE_RE.sub("\ufffd", raw_text),
        parse_error=" ".join(e for e in (name_error, parsed.error) if e) or None,
    )


def _show(text: str, limit: int = 64) -> str:
    """Printable, truncated form of untrusted text for messages."""
    shown = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text[:limit])
    return shown[:limit] + ("..." if len(shown) > limit or len(text) > limit else "")


def _check_size(text: str) -> None:
    size = len(text) if len(text) > MAX_ARGUMENT_BYTES else len(text.encode("utf-8", "replace"))
    if size > MAX_ARGUMENT_BYTES:
        raise _Reject(f"arguments are over {MAX_ARGUMENT_BYTES} bytes; send a smaller JSON object")


def _parse_text(text: str, repairs: list[str], *, level: int) -> dict[str, Any]:
    # Checked before any work, so an oversized input costs one encode, not repair attempts.
    _check_size(text)
    if text.startswith("\ufeff"):
        text = text[1:]
        repairs.append("stripped BOM")
    if not text.strip():
        if level:
            raise _Reject(f"arguments contain no JSON object; {_HINT}")
        repairs.append("empty arguments treated as {}")
        return {}
    try:
        return _as_object(_loads(text, repairs), repairs, level)
    except JSONDecodeError as exc:
        error = exc
    candidate = text.strip(_WS)
    fence, brace = candidate.find("```"), candidate.find("{")
    # A fence after the first brace is more likely markdown inside a string value.
    if fence >= 0 and (brace < 0 or fence < brace) and (m := _FENCE_RE.search(candidate)):
        if candidate[: m.start()].strip() or candidate[m.end() :].strip():
            note(repairs, "removed surrounding text")
        candidate = m.group(1).strip()
        note(repairs, "stripped code fence")
        if not candidate:
            raise _Reject(f"arguments contain only a code fence, no JSON object; {_HINT}")
    start = candidate.find("{")
    # Prose before the object is cut; '"' or a bracket there means the brace is inside JSON.
    if start > 0 and not any(c in candidate[:start] for c in '"[]}'):
        candidate = candidate[start:]
        note(repairs, "removed surrounding text")
    if candidate != text:
        try:
            return _as_object(_loads(candidate, repairs), repairs, level)
        except JSONDecodeError as exc:
            error = exc
    try:
        try:
            fixed, rest = normalize(candidate, repairs, max_depth=MAX_DEPTH)
        except TooDeep:
            raise _Reject(_TOO_DEEP) from None
        if rest.strip(_WS):
            if "{" in rest:
                raise _Reject(f"arguments contain more than one JSON object; {_HINT}")
            note(repairs, "removed surrounding text")
        # Whole strings are matched (and kept) so a comma inside one is never touched.
        if (cleaned := _TRAILING_COMMA_RE.sub(lambda c: c.group(1) or "", fixed)) != fixed:
            fixed = cleaned
            note(repairs, "removed trailing comma")
        return _as_object(_loads(fixed, repairs), repairs, level)
    except JSONDecodeError:  # the model sent the original, so report the original's error
        where = f"{error.msg.removesuffix(' at')} at line {error.lineno} column {error.colno}"
        raise _Reject(f"arguments are not valid JSON: {where}; {_HINT}") from None


def _as_object(value: Any, repairs: list[str], level: int) -> dict[str, Any]:
    if isinstance(value, dict):
        return cast("dict[str, Any]", _check(value, 1, repairs))
    if value is None and not level:
        repairs.append("null arguments treated as {}")
        return {}
    if isinstance(value, str) and level < 2 and value.lstrip().startswith("{"):
        repairs.append("decoded double-encoded JSON string")
        return _parse_text(value, repairs, level=level + 1)
    kinds = {"list": "an array", "str": "a string", "bool": "a boolean", "NoneType": "null"}
    kind = kinds.get(type(value).__name__, "a number")
    raise _Reject(f"arguments must be a JSON object, not {kind}; {_HINT}")


def _loads(text: str, repairs: list[str]) -> Any:
    """Strict ``json.loads`` that rejects non-finite numbers and notes duplicate keys."""
    duplicates: list[str] = []

    def hook(items: list[tuple[str, Any]]) -> dict[str, Any]:
        if len(obj := dict(items)) < len(items) and len(duplicates) < 5:
            counts = Counter(key for key, _ in items)
            duplicates.extend(
                f'duplicate key "{_show(k, 40)}": kept last value' for k in obj if counts[k] > 1
            )
        return obj

    try:
        value = json.loads(text, object_pairs_hook=hook, parse_float=_num, parse_constant=_num)
    except RecursionError:  # json's C scanner guards its recursion; _check enforces MAX_DEPTH
        raise _Reject(_TOO_DEEP) from None
    except JSONDecodeError:
        raise
    except ValueError:  # int() refuses literals over 4300 digits
        raise _Reject("arguments contain an integer with too many digits; send a string") from None
    # Noted only after success: a failed attempt's duplicates describe text we discard.
    for duplicate in duplicates[:5]:  # a few examples tell the model enough
        note(repairs, duplicate)
    return value


def _num(literal: str) -> float:
    number = float(literal)  # "NaN", "Infinity" and "1e999" all arrive here
    if not math.isfinite(number):
        raise _Reject(_NON_FINITE)
    return number


def _check(value: Any, depth: int, repairs: list[str]) -> Any:
    """Validate a decoded value as JSON; replace lone surrogates, which UTF-8 cannot encode."""
    if isinstance(value, str):
        if _SURROGATE_RE.search(value):
            note(repairs, "replaced invalid unicode")
        return _SURROGATE_RE.sub("\ufffd", value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return _num(repr(value))
    if isinstance(value, list | tuple | dict) and depth > MAX_DEPTH:
        raise _Reject(_TOO_DEEP)
    if isinstance(value, list | tuple):
        return [_check(item, depth + 1, repairs) for item in value]
    if not isinstance(value, dict):
        raise _Reject(f"arguments contain a {type(value).__name__} value, not JSON; {_HINT}")
    out: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise _Reject(f"arguments have a non-string key ({type(key).__name__}); {_HINT}")
        out[_check(key, depth, repairs)] = _check(item, depth + 1, repairs)
    return out
