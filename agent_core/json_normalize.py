"""Rewriting JSON-ish text as JSON in one pass, for ``parsing``: comments dropped, single
quotes, bare keys and Python literals converted, escapes and control characters fixed, a
truncated value closed. Each rewrite is noted in ``repairs`` (so the caller can decide
whether to trust the result); a bracket that does not match has no safe reading and is a
``JSONDecodeError``, as ``json`` would raise."""

from __future__ import annotations

import json
import re
from json import JSONDecodeError

__all__ = ["TooDeep", "normalize", "note"]

_TOKEN_RE = re.compile(
    r"""(?P<q>["'])(?P<body>(?:\\.|(?!(?P=q))[^\\])*)(?P<end>(?P=q)|\\?\Z)"""
    r"|(?P<comment>//[^\n]*|/\*.*?(?:\*/|\Z))"
    r"|(?P<word>[A-Za-z_$][\w$-]*)(?P<colon>(?=\s*:))?"
    r"""|[^"'/{}\[\],:A-Za-z_$]+|.""",
    re.DOTALL,
)
_ESCAPE_RE = re.compile(r'\\(?:u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)|[\x00-\x1f"]', re.DOTALL)
_PY_LITERALS = {"True": "true", "False": "false", "None": "null"}


class TooDeep(Exception):
    """More nested brackets than the caller allows."""


def note(repairs: list[str], what: str) -> None:
    """Add ``what`` to ``repairs`` once."""
    if what not in repairs:
        repairs.append(what)


def normalize(text: str, repairs: list[str], *, max_depth: int) -> tuple[str, str]:
    """Rewrite JSON-ish text as JSON in one pass; return it and the text after the value."""
    out: list[str] = []
    stack: list[str] = []
    expect_key = False
    for m in _TOKEN_RE.finditer(text):
        token = m.group()
        if m["comment"]:
            note(repairs, "stripped comments")
            continue
        if m["q"]:
            if m["q"] == "'":
                note(repairs, "converted single quotes")
            token = '"' + _ESCAPE_RE.sub(lambda e: _escape(e.group(), repairs), m["body"]) + '"'
            if m["end"] != m["q"]:
                note(repairs, "closed truncated string")
        elif m["word"]:
            # Only a bare word followed by ':' where a key belongs is unambiguously a key.
            if expect_key and m["colon"] is not None:
                token = f'"{token}"'
                note(repairs, "quoted unquoted keys")
            elif token in _PY_LITERALS and not expect_key:
                token = _PY_LITERALS[token]
                note(repairs, "converted Python literals")
        elif token in ("{", "["):
            stack.append(token)
            if len(stack) > max_depth:
                raise TooDeep
            expect_key = token == "{"
        elif token in ("}", "]"):
            if not stack or stack.pop() != ("{" if token == "}" else "["):
                # Mismatched brackets have no safe reading.
                raise JSONDecodeError("mismatched bracket", text, m.start())
            if not stack:
                return "".join(out) + token, text[m.end() :]
            expect_key = False
        elif token in (",", ":"):
            expect_key = token == "," and stack[-1:] == ["{"]
        out.append(token)
    if stack or "closed truncated string" in repairs:
        note(repairs, "closed truncated JSON")
        out.extend("}" if b == "{" else "]" for b in reversed(stack))
    return "".join(out), ""


def _escape(found: str, repairs: list[str]) -> str:
    """Turn one escape or raw character inside a string literal into valid JSON."""
    if found == '"':  # only a single-quoted string can hold a bare double quote
        return '\\"'
    if len(found) == 1 or found[1] < " ":
        note(repairs, "escaped control characters")
        return ("\\\\" if len(found) > 1 else "") + json.dumps(found[-1])[1:-1]
    if found[1] in '"\\/bfnrt' or len(found) == 6:
        return found
    note(repairs, "fixed invalid escapes")
    if len(found) == 4:  # Python's "\x41"
        return "\\u00" + found[2:]
    # "\'" is Python's too; "\d" in a regex or "C:\Users" meant a literal backslash.
    return ("" if found[1] == "'" else "\\\\") + found[1]
