"""Patterns that Python's backtracking regex engine can take exponential time over.

A tool's schema puts a ``pattern`` on text that a model writes, and a model writes what a
person in the channel asks for. ``re`` tries every way a repeat inside a repeat can split
the text (``^([a-z0-9]+-?)+$`` against 40 letters and a ``!``), holding the GIL the whole
time: one argument would stall every thread signoff serves. So signoff never runs such a
pattern itself: a command tool's is refused at start-up (its author can make the inner
repeat possessive, ``[a-z0-9]++``, or atomic, ``(?>…)``, which Python 3.11 supports), and an
MCP server's is left for the server to check (``checkable_schema``).

The test is the usual one for catastrophic backtracking: a repeat of variable length, or
alternatives that can begin with the same character, inside another repeat. It also
flags some patterns that are fast (``([a-z]+\\.)+``); it misses polynomial ones, whose cost
``json_schema.PATTERN_TEXT_LIMIT`` bounds.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

__all__ = ["backtracking_risk", "checkable_schema"]

# The parser ``re`` itself uses (no stub in typeshed; ``sre_parse`` is its deprecated alias).
_parser: Any = importlib.import_module("re._parser")
_c: Any = importlib.import_module("re._constants")
_REPEATS = (_c.MAX_REPEAT, _c.MIN_REPEAT)
_ANY_CHAR = object()  # a first character that could be anything
_DATA = frozenset({"enum", "const", "default", "examples"})  # values, not schemas


@lru_cache(maxsize=1024)
def backtracking_risk(pattern: str) -> str | None:
    """Why ``pattern`` could take exponential time, or None. A pattern ``re`` cannot parse
    is not judged here: its caller reports that error."""
    try:
        parsed = _parser.parse(pattern)
    except Exception:  # re.error, or RecursionError for a pattern nested past the stack
        return None
    return _walk(list(parsed), in_repeat=False)


def _walk(items: list[tuple[Any, Any]], *, in_repeat: bool) -> str | None:
    for op, av in items:
        found: str | None = None
        if op in _REPEATS:
            low, high, body = av
            if in_repeat and low != high:
                return "it repeats a part of varying length inside another repeat"
            found = _walk(list(body), in_repeat=in_repeat or high > 1)
        elif op == _c.BRANCH:
            branches = [list(b) for b in av[1]]
            if in_repeat and _overlap(branches):
                return "its alternatives inside a repeat can begin with the same character"
            for branch in branches:
                found = found or _walk(branch, in_repeat=in_repeat)
        elif op == _c.SUBPATTERN:
            found = _walk(list(av[3]), in_repeat=in_repeat)
        elif op in (_c.ATOMIC_GROUP, _c.POSSESSIVE_REPEAT):
            # Neither gives back what it matched: no way to split the text differently.
            body = av if op == _c.ATOMIC_GROUP else av[2]
            found = _walk(list(body), in_repeat=False)
        elif op in (_c.ASSERT, _c.ASSERT_NOT):
            found = _walk(list(av[1]), in_repeat=in_repeat)
        elif op == _c.GROUPREF_EXISTS:
            found = _walk(list(av[1]), in_repeat=in_repeat) or (
                _walk(list(av[2]), in_repeat=in_repeat) if av[2] is not None else None
            )
        if found:
            return found
    return None


def _first(items: list[tuple[Any, Any]]) -> object:
    """The literal a branch must begin with, or ``_ANY_CHAR`` when it is not one literal."""
    if items and items[0][0] == _c.LITERAL:
        return items[0][1]
    return _ANY_CHAR


def _overlap(branches: list[list[tuple[Any, Any]]]) -> bool:
    firsts = [_first(b) for b in branches]
    return _ANY_CHAR in firsts or len(set(firsts)) < len(firsts)


def checkable_schema(schema: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """A copy of ``schema`` without the patterns ``backtracking_risk`` flags, and those
    patterns. Where a ``patternProperties`` key is one, that object's ``patternProperties``
    and ``additionalProperties`` go (jsonschema runs the keys for both): its property names
    are then the server's to check."""
    dropped: list[str] = []
    return _clean(schema, dropped), tuple(dropped)


def _clean(node: Any, dropped: list[str]) -> Any:
    if isinstance(node, list):
        return [_clean(item, dropped) for item in node]
    if not isinstance(node, Mapping):
        return node
    out = {k: v if k in _DATA else _clean(v, dropped) for k, v in node.items()}
    pattern = out.get("pattern")
    # A property named "pattern" maps to a schema (a dict); the keyword's value is text.
    if isinstance(pattern, str) and backtracking_risk(pattern):
        dropped.append(pattern)
        del out["pattern"]
    names = out.get("patternProperties")
    if isinstance(names, Mapping):
        risky = [p for p in names if isinstance(p, str) and backtracking_risk(p)]
        if risky:
            dropped.extend(risky)
            out.pop("patternProperties")
            out.pop("additionalProperties", None)
    return out
