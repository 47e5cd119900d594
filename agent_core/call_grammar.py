"""``call <tool> {json}`` and ``call <tool> key=value …``: any tool, by name, with no model.

The offline model turns such a message into a tool call, which then takes the real path
(validation, the gate, capsules), so a person can try every configured tool in
``signoff dev`` without an API key. ``key=value`` values are typed by the tool's schema:
a string parameter takes the text as it is, any other type is read as JSON
(``replicas=3``, ``force=true``, ``ids=[1,2]``). Quote values with spaces or JSON, as in
a shell: ``message="two words"``, ``labels='{"app": "api"}'``. Curly quotes and the links
Slack makes of what looks like a URL or a domain (``<http://prod.io|prod.io>``) are read as
what a person typed. The text comes from a thread's transcript, whose ``&lt;`` ``&gt;``
``&amp;`` ingest undid already (``bot.ingest``): undone again, a typed ``&lt;!here&gt;``
would become markup nobody wrote.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .model import ToolSpec

__all__ = ["CallSyntaxError", "ParsedCall", "help_text", "parse_call"]

_CALL = re.compile(r"^\s*call\s+(\S+)(.*)$", re.DOTALL | re.IGNORECASE)
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
# What Slack makes of a URL, a domain or an address a person typed, as it sends the message:
# <https://example.com>, <http://prod.io|prod.io>, <mailto:a@b.io|a@b.io>.
_LINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]*:[^|>]*)(?:\|([^>]*))?>")
_TYPED = {'"': '"', "“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"}
_DEMO = {"service_status", "restart_service", "deploy_service", "scale_service"}
USAGE = "`call <tool> key=value …` or `call <tool> {json object}`"


class CallSyntaxError(ValueError):
    """The message starts with ``call`` but cannot be read; the text says how to write it."""


@dataclass(frozen=True)
class ParsedCall:
    name: str
    # A dict from key=value, or the JSON text as typed (parsed defensively downstream,
    # exactly like a model's arguments).
    arguments: dict[str, Any] | str


def _plain(text: str) -> str:
    text = _LINK.sub(lambda m: m.group(2) if m.group(2) is not None else m.group(1), text)
    return "".join(_TYPED.get(ch, ch) for ch in text)


def _types(spec: ToolSpec | None, key: str) -> set[str]:
    if spec is None:
        return set()
    properties = spec.input_schema.get("properties")  # an MCP server's: any shape
    prop = properties.get(key) if isinstance(properties, Mapping) else None
    kind = prop.get("type") if isinstance(prop, Mapping) else None
    if isinstance(kind, str):
        return {kind}
    return {k for k in kind if isinstance(k, str)} if isinstance(kind, list) else set()


def _value(raw: str, types: set[str]) -> Any:
    if types == {"string"} or (types == {"string", "null"} and raw != "null"):
        return raw
    try:
        value = json.loads(raw)
    except ValueError:
        return raw  # validation says what is wrong with it
    if not types and isinstance(value, dict | list):
        return raw  # an untyped parameter takes text unless it is a plain scalar
    return value


def _pairs(rest: str, name: str, spec: ToolSpec | None) -> dict[str, Any]:
    try:
        tokens = shlex.split(rest, posix=True)
    except ValueError as exc:
        raise CallSyntaxError(f"I could not read the arguments of `{name}`: {exc}.") from None
    arguments: dict[str, Any] = {}
    for token in tokens:
        key, sep, raw = token.partition("=")
        if not sep or not _KEY.fullmatch(key):
            raise CallSyntaxError(
                f"I could not read `{token[:60]}` in the arguments of `{name}`: write {USAGE}."
            )
        if key in arguments:
            raise CallSyntaxError(f"`{key}` is given twice in the arguments of `{name}`.")
        arguments[key] = _value(raw, _types(spec, key))
    return arguments


def parse_call(text: str, tools: Sequence[ToolSpec]) -> ParsedCall | None:
    """The call a message asks for; None when it does not start with ``call``."""
    match = _CALL.match(_plain(text))
    if match is None:
        return None
    name, rest = match.group(1), match.group(2).strip()
    spec = next((t for t in tools if t.name == name), None)
    if rest.startswith("{"):
        return ParsedCall(name=name, arguments=rest)
    return ParsedCall(name=name, arguments=_pairs(rest, name, spec))


def _line(spec: ToolSpec) -> str:
    first = (spec.description.strip().splitlines() or [""])[0].strip()
    if len(first) > 100:
        first = first[:99] + "…"
    return f"• `{spec.name}`: {first}" if first else f"• `{spec.name}`"


def help_text(tools: Sequence[ToolSpec]) -> str:
    """What the offline model can do with these tools."""
    if not tools:
        # The model is offered no tool: none is configured, or every one is on an MCP
        # server that is down (its tools are offered once it answers again).
        return (
            "I run offline, and no tools are available to me right now, so I cannot look at "
            "or change anything: none is configured, or the MCP servers that offer them are "
            "not answering (the log says which). An operator adds tools with SIGNOFF_CONFIG "
            "(MCP servers, commands) or SIGNOFF_TOOLS."
        )
    lines = ["I run offline, so I understand a few requests:", f"• {USAGE}: any tool below"]
    if {t.name for t in tools} >= _DEMO:
        lines += [
            "• `status of <service>`, `restart <service>`, `deploy <service> <version>`, "
            "`scale <service> to <n>` (services: api, web, worker, db)",
        ]
    lines.append("Tools (some wait for a human approval):")
    lines += [_line(t) for t in sorted(tools, key=lambda t: t.name)]
    return "\n".join(lines)
