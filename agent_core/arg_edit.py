"""Edit & approve, as data: one field per parameter of a tool's JSON schema, and back.

``edit_fields`` turns a schema and the current arguments into prefilled fields; the bot
draws them (``bot/edit_modal.py``). ``parse_edit`` turns what was typed back into
arguments — by each field's type — and ``check_arguments`` (``arg_check.py``) validates
them against the schema and then the tool itself, with every problem pinned to its field,
so the modal can show it where it belongs and nothing is recorded until the whole call is
valid.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .arg_check import GENERAL, NOT_FINITE, TOO_DEEP, check_arguments

__all__ = [
    "GENERAL",
    "EditField",
    "EditForm",
    "FieldKind",
    "check_arguments",
    "edit_fields",
    "parse_edit",
]

FieldKind = Literal["text", "integer", "number", "boolean", "choice", "json"]
_WHOLE = re.compile(r"-?[0-9]+")
_MAX_DIGITS = 4000  # Python refuses to read a longer int (4300 digits); as a float: too large


@dataclass(frozen=True)
class EditField:
    name: str
    kind: FieldKind
    description: str
    required: bool
    value: str  # the current value as typed text; "" when not given
    choices: tuple[str, ...] = ()  # for "choice" and "boolean": JSON text of each option
    minimum: float | None = None
    maximum: float | None = None
    multiline: bool = False
    # It may be null: a required one left empty is null, not missing.
    nullable: bool = False
    # The argument as given (``given``: it was), for a field submitted as it was
    # prefilled: the approver changed nothing there, so nothing there may change —
    # not a separator's space, an empty text, or a digit of a long number.
    given: bool = False
    current: Any = None


@dataclass(frozen=True)
class EditForm:
    """What an approver may edit, prefilled with the arguments the approval stands for."""

    approval_id: str
    tool: str
    args_sha256: str
    fields: tuple[EditField, ...]
    require_reason: bool


def _type_of(spec: Mapping[str, Any]) -> str:
    """The one non-null JSON type a property takes, or "" when it is not one."""
    kind = spec.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        return kinds[0] if len(kinds) == 1 else ""
    if isinstance(kind, str):
        return kind
    options = [o for o in spec.get("anyOf") or spec.get("oneOf") or [] if isinstance(o, dict)]
    kinds = [o.get("type") for o in options if o.get("type") != "null"]
    if len(kinds) == 1 and isinstance(kinds[0], str):
        return kinds[0]
    return ""


def _nullable(spec: Mapping[str, Any]) -> bool:
    kind = spec.get("type")
    if isinstance(kind, list):
        return "null" in kind
    options = [o for o in spec.get("anyOf") or spec.get("oneOf") or [] if isinstance(o, dict)]
    return any(o.get("type") == "null" for o in options)


def _as_text(value: Any, kind: FieldKind) -> str:
    if value is None:
        return ""
    if kind == "text" and isinstance(value, str):
        return value
    if kind in ("integer", "number") and isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, indent=1 if kind == "json" else None)


def _field(
    name: str, spec: Mapping[str, Any], required: bool, *, given: bool, current: Any
) -> EditField:
    kind_name = _type_of(spec)
    enum = spec.get("enum")
    kind: FieldKind
    choices: tuple[str, ...] = ()
    if isinstance(enum, list) and enum:
        kind, choices = "choice", tuple(json.dumps(v, ensure_ascii=False) for v in enum)
    elif kind_name == "boolean":
        kind, choices = "boolean", ("true", "false")
    elif kind_name in ("string", "integer", "number"):
        kind = "text" if kind_name == "string" else kind_name  # type: ignore[assignment]
    else:
        kind = "json"
    value = _as_text(current, kind)
    if kind in ("choice", "boolean") and current is not None:
        value = json.dumps(current, ensure_ascii=False)

    def bound(key: str) -> float | None:
        found = spec.get(key)
        return float(found) if isinstance(found, int | float) else None

    return EditField(
        name=name,
        kind=kind,
        description=str(spec.get("description") or spec.get("title") or ""),
        required=required,
        value=value,
        choices=choices,
        minimum=bound("minimum"),
        maximum=bound("maximum"),
        multiline=kind == "json" or (kind == "text" and ("\n" in value or len(value) > 150)),
        nullable=_nullable(spec),
        given=given,
        current=current,
    )


def edit_fields(schema: Mapping[str, Any], arguments: Mapping[str, Any]) -> tuple[EditField, ...]:
    """A field per parameter, in the schema's order, prefilled from ``arguments``.

    Arguments the schema does not list (it allows extra ones) get a JSON field each, so
    an edit can see and keep everything it approves.
    """
    properties = schema.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    required = set(schema.get("required") or [])
    fields = [
        _field(
            name,
            spec if isinstance(spec, dict) else {},
            name in required,
            given=name in arguments,
            current=arguments.get(name),
        )
        for name, spec in properties.items()
    ]
    fields += [
        _field(name, {}, False, given=True, current=value)
        for name, value in arguments.items()
        if name not in properties
    ]
    return tuple(fields)


def _parse_one(field: EditField, raw: str) -> Any:
    """The typed value of one field; ValueError says what is wrong with it."""
    text = raw.strip()
    if field.kind == "text":
        return raw if field.multiline else text
    if field.kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise ValueError("must be a whole number") from None
    if field.kind == "number":
        if _WHOLE.fullmatch(text) and len(text) <= _MAX_DIGITS:
            return int(text)  # exactly: a float holds 53 bits, an id may need more
        try:
            number = float(text)
        except ValueError:
            raise ValueError("must be a number") from None
        if not math.isfinite(number):
            raise ValueError("must be a finite number")
        return int(number) if number.is_integer() and "." not in text else number
    try:
        return json.loads(text, parse_constant=_finite, parse_float=_finite)
    except json.JSONDecodeError as exc:
        raise ValueError(f"is not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise ValueError(TOO_DEEP) from None


def _finite(literal: str) -> float:
    number = float(literal)  # "NaN", "-Infinity" and "1e999" all arrive here
    if not math.isfinite(number):
        raise ValueError(NOT_FINITE)
    return number


def parse_edit(
    fields: tuple[EditField, ...], raw: Mapping[str, str | None]
) -> tuple[dict[str, Any], dict[str, str]]:
    """(arguments, problems by field name) from what was typed or picked, by field name.

    An empty optional field leaves its argument out; an empty required one is null when
    the schema allows it, else a problem.
    """
    arguments: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for field in fields:
        given = raw.get(field.name)
        if field.given and (given or None) == (field.value or None):
            arguments[field.name] = field.current  # as prefilled: see EditField.given
            continue
        if given is None or not given.strip():
            if field.required and field.nullable:
                arguments[field.name] = None
            elif field.required:
                problems[field.name] = "required"
            continue
        if field.choices and given not in field.choices:
            problems[field.name] = "pick one of the options"
            continue
        try:
            value = _parse_one(field, given)
            # JSON may spell half a surrogate pair ("\ud800"): no text, and no hash.
            json.dumps(value, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            problems[field.name] = "is not valid text (it holds half of a surrogate pair)"
        except ValueError as exc:
            problems[field.name] = str(exc)
        else:
            arguments[field.name] = value
    return arguments, problems
