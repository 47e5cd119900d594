"""Whether edited arguments make a call the tool takes, with every problem pinned to its
field (``GENERAL`` for the rest): their shape (as deep and as finite as a record can keep
and hash), the tool's JSON schema, then the tool's own check. ``Engine.edit`` may be called
without ``check_edit``, so nothing here trusts the form that typed them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .parsing import MAX_DEPTH
from .tools import Tool

__all__ = ["GENERAL", "NOT_FINITE", "TOO_DEEP", "check_arguments"]

# Where problems that belong to no one field are shown (the first field, in the modal).
GENERAL = ""
# A model's arguments nest at most MAX_DEPTH levels, the arguments object the first; an
# edit may not nest deeper: records past about 200 are written but never read back.
TOO_DEEP = f"is nested too deeply (at most {MAX_DEPTH - 1} levels of arrays and objects)"
# Python's json reads NaN, Infinity and 1e999, which a model's arguments may not hold
# (``parsing``): a record writes them as null, so an edit holding one would no longer hash
# to what it says, and its request could never be opened again.
NOT_FINITE = "must hold finite numbers only (no NaN or Infinity)"


def _schema_problems(
    schema: Mapping[str, Any], arguments: dict[str, Any], tool: str
) -> dict[str, str]:
    """Problems by field. A schema this cannot use otherwise (one that loops, one
    jsonschema trips over) gives none here: the tool's own check, which says why, is next."""
    # Imported here: jsonschema is a twentieth of a second of every command's start, and
    # only an edit needs it.
    from referencing.exceptions import Unresolvable

    from .tools.json_schema import safe_validator

    try:
        # The tools' own checker's validator: a "$ref" outside the schema is a problem,
        # never fetched; no pattern that could take exponential time is run.
        validator = safe_validator(schema)[0]
        errors = list(validator.iter_errors(arguments))
    except Unresolvable as exc:
        return {GENERAL: f"the input schema of {tool} refers to {exc.ref}, which is not in it"}
    except Exception:  # SchemaError, RecursionError, what else a server's schema trips
        return {}
    problems: dict[str, str] = {}
    for error in errors:
        path = list(error.absolute_path)
        where = str(path[0]) if path else GENERAL
        problems.setdefault(where, error.message)
    return problems


def _shape_problem(value: Any) -> str | None:
    """Why ``value`` cannot be an argument a record keeps as it is hashed: nested too deep,
    or holding a number that is not finite. Checked here too, not only where the typed JSON
    is read: ``Engine.edit`` may be called without ``check_edit``. Without recursing: it
    may be deep."""
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return NOT_FINITE
        if isinstance(item, dict | list | tuple):
            if level >= MAX_DEPTH:
                return TOO_DEEP
            inner = item.values() if isinstance(item, dict) else item
            stack.extend((i, level + 1) for i in inner)
    return None


def check_arguments(tool: Tool, arguments: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """(validated arguments, problems by field name): the shape, the schema, then the tool."""
    problems = {n: p for n, v in arguments.items() if (p := _shape_problem(v)) is not None}
    if problems:
        return {}, problems
    problems = _schema_problems(tool.schema, arguments, tool.name)
    if problems:
        return {}, problems
    try:
        return tool.validate(arguments), {}
    except ValueError as exc:
        text = str(exc)
        prefix = f"invalid arguments for {tool.name}: "
        text = text.removeprefix(prefix)
        names = {str(n) for n in (tool.schema.get("properties") or {})}
        for part in text.split("; "):
            name, _, message = part.partition(": ")
            if name in names and message:
                problems.setdefault(name, message)
            else:
                problems.setdefault(GENERAL, part)
        return {}, problems
