"""Arguments checked against a JSON schema (MCP and command tools), with readable errors."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, SchemaError, validators
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator
from referencing import Registry
from referencing.exceptions import Unresolvable

from .regex_risk import checkable_schema

__all__ = ["PATTERN_TEXT_LIMIT", "SchemaChecker", "safe_validator", "schema_problem"]

log = logging.getLogger("signoff.tools")

# A pattern's time grows with its text (n**3 steps for ^[0-9]+[0-9]+[0-9]+$, a second at
# this length): longer text is not matched here (an MCP server checks it; a command tool
# refuses it), and a longer property name, matched against patternProperties, is refused.
PATTERN_TEXT_LIMIT = 1024


@cache  # one class per draft, not one per schema
def _short_text_only(cls: type[Validator]) -> type[Validator]:
    draft_pattern = cls.VALIDATORS["pattern"]

    def pattern(validator: Validator, regex: Any, text: Any, schema: Any) -> Iterator[Any]:
        if not (isinstance(text, str) and len(text) > PATTERN_TEXT_LIMIT):
            yield from draft_pattern(validator, regex, text, schema)

    extended: type[Validator] = validators.extend(  # type: ignore[no-untyped-call]
        cls, {"pattern": pattern}
    )
    return extended


def safe_validator(schema: Mapping[str, Any]) -> tuple[Validator, tuple[str, ...]]:
    """A validator for ``schema`` that runs no pattern that could take exponential time
    (``regex_risk``; those are returned) and none on text over ``PATTERN_TEXT_LIMIT``.
    Not checked: the schema itself, which may still trip it (see ``SchemaChecker``)."""
    cls = validators.validator_for(dict(schema), default=Draft202012Validator)
    checkable, unchecked = checkable_schema(schema)
    # An empty registry: a "$ref" outside the schema is an error, never fetched (without
    # one, jsonschema GETs http refs with urllib, blocking the loop: a server could point
    # signoff at any address it can reach).
    return _short_text_only(cls)(checkable, registry=Registry()), unchecked


def _long_name(arguments: Any) -> bool:
    waiting = [arguments]  # no recursion: arguments may nest deeper than the stack
    while waiting:
        value = waiting.pop()
        if isinstance(value, dict):
            if any(len(str(k)) > PATTERN_TEXT_LIMIT for k in value):
                return True
            waiting.extend(value.values())
        elif isinstance(value, list):
            waiting.extend(value)
    return False


def _said(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def _where(error: ValidationError) -> str:
    path = ".".join(str(p) for p in error.absolute_path)
    return path or "arguments"


def schema_problem(schema: Mapping[str, Any], *, subject: str = "its input schema") -> str:
    """Why a tool's input schema is not JSON schema; "" when it is. The model APIs check
    every tool's schema and refuse a whole request for one bad one."""
    try:
        validators.validator_for(dict(schema), default=Draft202012Validator).check_schema(
            dict(schema)
        )
    except SchemaError as exc:
        return f"{subject} is not valid JSON schema: {exc.message[:200]}"
    except Exception as exc:  # jsonschema itself trips over it ($id: 5)
        return f"{subject} is not valid JSON schema: {_said(exc)}"
    return ""


class SchemaChecker:
    """Validates arguments against one schema; the schema itself is checked first.
    Patterns that could take exponential time are left out (``regex_risk``), said once."""

    def __init__(self, tool: str, schema: Mapping[str, Any]) -> None:
        self.tool = tool
        self.problem = ""
        self._validator: Validator | None = None
        self.problem = schema_problem(schema, subject=f"the input schema of {tool}")
        if self.problem:
            return
        try:
            self._validator, unchecked = safe_validator(schema)
            for pattern in unchecked:
                log.warning(
                    "%s: signoff does not check arguments against the pattern %r (a "
                    "repeat inside a repeat, which could take exponential time); the "
                    "server checks them",
                    tool,
                    pattern,
                )
        except Exception as exc:  # a schema jsonschema checks but cannot build from
            self.problem = f"the input schema of {tool} cannot be used: {_said(exc)}"

    def validate(self, arguments: Any) -> dict[str, Any]:
        if self._validator is None:
            raise ValueError(self.problem)
        if not isinstance(arguments, dict):
            raise ValueError(f"invalid arguments for {self.tool}: arguments must be an object")
        if _long_name(arguments):
            raise ValueError(
                f"invalid arguments for {self.tool}: a property name over "
                f"{PATTERN_TEXT_LIMIT:,} characters"
            )
        try:
            errors = sorted(self._validator.iter_errors(arguments), key=lambda e: list(e.path))
        except Unresolvable as exc:
            raise ValueError(
                f"the input schema of {self.tool} refers to {exc.ref}, which is not in it"
            ) from None
        except RecursionError:
            # A "$ref" that leads back to itself ({"a": {"$ref": "#/properties/a"}}) never
            # ends; neither do arguments nested past the stack. Either way: not checked.
            raise ValueError(
                f"the arguments for {self.tool} cannot be checked: its input schema refers "
                "to itself without end (a $ref loop), or the arguments nest too deeply"
            ) from None
        except Exception as exc:  # e.g. an integer too large for a float multipleOf
            raise ValueError(
                f"the arguments for {self.tool} cannot be checked against its input schema: "
                f"{_said(exc)}"
            ) from None
        if errors:
            first = best_match(errors)
            shown = [first, *[e for e in errors if e is not first]][:5]
            problems = "; ".join(f"{_where(e)}: {e.message}" for e in shown)
            raise ValueError(f"invalid arguments for {self.tool}: {problems}")
        return dict(arguments)
