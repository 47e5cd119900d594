"""The page's requests' text fields, checked for their shape: a missing one, or one that
is no text, is a 400 naming it (the body itself: ``control_http_kit.json_body``)."""

from __future__ import annotations

from typing import Any

from localslack.errors import ControlError

__all__ = ["need", "optional"]


def need(params: dict[str, Any], *names: str) -> list[str]:
    missing = [n for n in names if not params.get(n)]
    if missing:
        raise ControlError("missing_argument", ", ".join(missing))
    return [str(optional(params, n)) for n in names]


def optional(params: dict[str, Any], name: str) -> str | None:
    """A text field, or None when absent or empty; a 400 naming it when it is no text."""
    value = params.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ControlError("invalid_argument", f"{name} must be a string")
    return value
