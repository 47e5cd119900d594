"""The Edit & approve modal: one input per parameter, prefilled; problems shown in place.

Drawn from an ``EditForm`` (``agent_core.arg_edit``): text inputs for strings, number
inputs for numbers (with the schema's bounds), a select for booleans and enums, and a JSON
text box for anything else. What is submitted is read back by block (``arg:<name>``) and
checked by the engine; its problems go back to Slack as ``response_action: errors`` on the
blocks they belong to, so nothing is recorded until the whole call is valid.
"""

from __future__ import annotations

from typing import Any

from agent_core.arg_edit import GENERAL, EditField, EditForm

from .drawn_text import visible
from .slack_text import MAX_REASON, escape, join, literal, mrkdwn_object, plain_text

__all__ = ["EDIT_MODAL", "edit_errors", "edit_modal", "edit_values", "modal_reason"]

EDIT_MODAL = "signoff_edit_submit"
REASON = "reason"
_PREFIX = "arg:"
_VALUE = "value"
# Slack's limits: 100 blocks a view, 3000 characters in an input, 100 options of 150.
_MAX_FIELDS = 90
_MAX_INPUT = 3000
_MAX_OPTIONS = 100
_MAX_OPTION_VALUE = 150
_MAX_NAME = 200  # a block id holds 255 (with _PREFIX); a label needs one character at least


def _option(value: str) -> dict[str, Any]:
    # Drawn ``visible``: a tool's choices may hold "\\u202eipa", which Slack draws "api".
    label = plain_text(visible(value), 75)
    return {"text": {"type": "plain_text", "text": label}, "value": value}


def _selectable(field: EditField) -> bool:
    return (
        bool(field.choices)
        and len(field.choices) <= _MAX_OPTIONS
        and all(0 < len(c) <= _MAX_OPTION_VALUE for c in field.choices)
    )


def _element(field: EditField) -> dict[str, Any]:
    if field.kind in ("integer", "number"):
        element: dict[str, Any] = {
            "type": "number_input",
            "action_id": _VALUE,
            "is_decimal_allowed": field.kind == "number",
        }
        for key, bound in (("min_value", field.minimum), ("max_value", field.maximum)):
            if bound is not None:
                element[key] = str(int(bound) if field.kind == "integer" else bound)
    elif _selectable(field):
        element = {
            "type": "static_select",
            "action_id": _VALUE,
            "options": [_option(c) for c in field.choices],
        }
        if field.value in field.choices:
            element["initial_option"] = _option(field.value)
        return element
    else:
        element = {
            "type": "plain_text_input",
            "action_id": _VALUE,
            "multiline": field.multiline,
            "max_length": _MAX_INPUT,
        }
    if field.value:
        element["initial_value"] = field.value
    return element


def edit_modal(form: EditForm) -> dict[str, Any] | None:
    """The modal, or None when Slack cannot show these arguments for editing (too many
    parameters, a value longer than an input holds, or a name a label or block id cannot
    hold): a field left out would approve the call without its argument. Nor a value or
    name Slack would draw as something else (``visible``: ``\\u202eipa`` as "api"): left
    as prefilled it submits itself, and its escape typed in the input is other text."""
    if len(form.fields) > _MAX_FIELDS or any(
        len(f.value) > _MAX_INPUT
        or not 0 < len(f.name) <= _MAX_NAME
        or visible(f.value) != f.value
        or visible(f.name) != f.name
        for f in form.fields
    ):
        return None
    intro = join(
        literal("Change the arguments of `"),
        escape(form.tool),
        literal(
            f"` (now hash `{form.args_sha256[:12]}`). Submitting approves the edited call: "
            "it runs once, exactly as edited, when the approvals it needs are in."
        ),
    )
    blocks: list[dict[str, Any]] = [{"type": "section", "text": mrkdwn_object(intro)}]
    for field in form.fields:
        block: dict[str, Any] = {
            "type": "input",
            "block_id": f"{_PREFIX}{field.name}",
            # Required but nullable: may be left empty (null), so not required of Slack;
            # nor one shown empty (an empty text), which submitted so keeps its argument.
            "optional": not field.required or field.nullable or (field.given and not field.value),
            "label": {"type": "plain_text", "text": plain_text(field.name, 2000)},
            "element": _element(field),
        }
        hint = field.description
        if field.required and field.nullable:
            hint = f"{hint} (leave empty for none)".strip()
        if hint:
            block["hint"] = {"type": "plain_text", "text": plain_text(hint, 2000)}
        blocks.append(block)
    blocks.append(
        {
            "type": "input",
            "block_id": REASON,
            "optional": not form.require_reason,
            "label": {"type": "plain_text", "text": "Reason (the agent will see it)"},
            "element": {
                "type": "plain_text_input",
                "action_id": REASON,
                "multiline": True,
                "max_length": MAX_REASON,
            },
        }
    )
    return {
        "type": "modal",
        "callback_id": EDIT_MODAL,
        "private_metadata": form.approval_id,
        "title": {"type": "plain_text", "text": "Edit & approve"},
        "submit": {"type": "plain_text", "text": "Approve edited"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


def _text(state: dict[str, Any]) -> str | None:
    option = state.get("selected_option")
    if option is not None:
        # Slack sends an object or null: anything else (a forged form) reads as none chosen.
        value = option.get("value") if isinstance(option, dict) else None
        return str(value) if value is not None else None
    value = state.get("value")
    return None if value is None else str(value)


def edit_values(values: dict[str, dict[str, dict[str, Any]]]) -> dict[str, str | None]:
    """What was typed or picked, by parameter name."""
    return {
        block_id[len(_PREFIX) :]: _text(actions.get(_VALUE) or {})
        for block_id, actions in values.items()
        if block_id.startswith(_PREFIX)
    }


def modal_reason(values: dict[str, dict[str, dict[str, Any]]]) -> str:
    value = (values.get(REASON) or {}).get(REASON, {}).get("value")
    return str(value).strip() if value else ""


def edit_errors(
    problems: dict[str, str], form_fields: list[str], *, reason: str = ""
) -> dict[str, str]:
    """Problems by block id, for ``response_action: errors`` (at most 150 characters each):
    ``problems`` by parameter (one of no one field is shown on the first), ``reason`` the
    approver's own Reason box's — apart, as a tool may well have a parameter "reason"."""
    errors: dict[str, str] = {REASON: plain_text(reason, 150)} if reason else {}
    for name, message in problems.items():
        if name == GENERAL or name not in form_fields:
            block = f"{_PREFIX}{form_fields[0]}" if form_fields else REASON
        else:
            block = f"{_PREFIX}{name}"
        text = plain_text(message, 150)
        errors[block] = f"{errors[block]}; {text}"[:150] if block in errors else text
    return errors
