"""A tool with a parameter named ``reason`` (``drain(node, reason)``): its problems are
shown on its field, never on the approver's own Reason box below the fields."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from agent_core.arg_edit import check_arguments, edit_fields, parse_edit
from agent_core.tools import tool
from bot.edit_modal import edit_errors


@tool(requires_human_approval=True)
def cordon(node: str, reason: Annotated[str, Field(min_length=8)]) -> str:
    """Cordon a node.

    Args:
        node: which node
        reason: written on the node for whoever looks at it
    """
    return "ok"


def test_a_parameter_named_reason_keeps_its_problems_on_its_field() -> None:
    fields = edit_fields(cordon.schema, {"node": "n1", "reason": "disk errors"})
    names = [f.name for f in fields]
    arguments, problems = parse_edit(fields, {"node": "n1", "reason": ""})
    assert problems == {"reason": "required"}
    assert edit_errors(problems, names) == {"arg:reason": "required"}
    _, problems = check_arguments(cordon, {"node": "n1", "reason": "disk"})
    assert set(edit_errors(problems, names)) == {"arg:reason"}
    # The approver's own reason, when the policy needs one, is the Reason box's; both show.
    errors = edit_errors(problems, names, reason="this tool needs a reason")
    assert errors["reason"] == "this tool needs a reason" and set(errors) == {
        "arg:reason",
        "reason",
    }
