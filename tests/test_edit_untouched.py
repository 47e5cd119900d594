"""Edit & approve changes what the approver changed, and nothing else: a field left as it
was prefilled submits the argument it showed, exactly."""

from __future__ import annotations

from typing import Any

from agent_core.arg_edit import EditForm, check_arguments, edit_fields, parse_edit
from agent_core.tools import tool
from bot.edit_modal import edit_modal, edit_values
from localslack.blockkit import validate_modal


@tool(requires_human_approval=True)
def export_table(table: str, separator: str, prefix: str, row_limit: float, note: str = "-") -> str:
    """Export a table as text.

    Args:
        table: which table
        separator: between columns
        prefix: before each line
        row_limit: at most this many rows
        note: free text
    """
    return "ok"


def _untouched(modal: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """What Slack submits for a modal nobody typed in: each input as it was prefilled.
    Slack refuses to submit a required input that is empty."""
    state: dict[str, dict[str, dict[str, Any]]] = {}
    for block in modal["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        value = element.get("initial_value")
        assert block["optional"] or value, f"{block['block_id']} cannot be submitted as shown"
        state[block["block_id"]] = {element["action_id"]: {"value": value}}
    return state


def test_fields_left_as_prefilled_keep_their_arguments_exactly() -> None:
    """A separator ``", "`` came back ``","`` (single-line text was stripped), a prefix
    ``""`` could not be submitted at all (a required input prefilled empty), a ``note``
    of ``""`` was left out, and a whole ``number`` past 2**53 came back rounded: an
    approver who edited only ``table`` approved (and ran) a call that also changed those."""
    current = export_table.validate(
        {
            "table": "orders",
            "separator": ", ",
            "prefix": "",
            "row_limit": 12345678901234567891,
            "note": "",
        }
    )
    fields = edit_fields(export_table.schema, current)
    form = EditForm("appr_0123456789abcdef", "export_table", "0" * 64, fields, False)
    modal = edit_modal(form)
    assert modal is not None and validate_modal(modal) == []
    typed = edit_values(_untouched(modal))
    arguments, problems = parse_edit(fields, typed)
    assert problems == {}
    valid, problems = check_arguments(export_table, arguments)
    assert problems == {} and valid == current
    # The one field the approver changed is the one change.
    arguments, problems = parse_edit(fields, {**typed, "table": "orders_2025"})
    assert problems == {} and arguments == {**current, "table": "orders_2025"}
    # Typed text is still trimmed, and clearing an optional field still leaves it out.
    arguments, _ = parse_edit(fields, {**typed, "separator": " ; "})
    assert arguments["separator"] == ";"
    noted = edit_fields(export_table.schema, {**current, "note": "x"})
    assert "note" not in parse_edit(noted, {**typed, "note": None})[0]
