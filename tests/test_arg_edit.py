"""Edit & approve forms from JSON schemas, what was typed back into arguments, and the
Slack modal drawn from them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from agent_core.arg_edit import GENERAL, EditForm, check_arguments, edit_fields, parse_edit
from agent_core.demo_fleet import demo_registry
from agent_core.tools import tool
from bot.edit_modal import EDIT_MODAL, edit_errors, edit_modal, edit_values, modal_reason
from bot.slack_text import escape_reply


@tool(requires_human_approval=True)
def tune(
    pool: str,
    replicas: Annotated[int, Field(ge=0, le=100)],
    ratio: float,
    dry_run: bool,
    mode: Literal["fast", "safe"],
    labels: dict[str, str],
    note: str | None = None,
) -> str:
    """Tune a pool.

    Args:
        pool: the pool name
        replicas: how many
        ratio: a ratio
        dry_run: only pretend
        mode: how
        labels: extra labels
        note: free text
    """
    return "ok"


CURRENT: dict[str, Any] = {
    "pool": "blue",
    "replicas": 12,
    "ratio": 0.5,
    "dry_run": False,
    "mode": "safe",
    "labels": {"team": "ops"},
}


def test_one_prefilled_field_per_parameter_by_its_type() -> None:
    fields = {f.name: f for f in edit_fields(tune.schema, CURRENT)}
    assert list(fields) == ["pool", "replicas", "ratio", "dry_run", "mode", "labels", "note"]
    assert fields["pool"].kind == "text" and fields["pool"].value == "blue"
    assert fields["pool"].description == "the pool name" and fields["pool"].required
    replicas = fields["replicas"]
    assert (replicas.kind, replicas.value, replicas.minimum, replicas.maximum) == (
        "integer",
        "12",
        0,
        100,
    )
    assert fields["ratio"].kind == "number"
    assert fields["dry_run"].kind == "boolean" and fields["dry_run"].value == "false"
    assert fields["mode"].kind == "choice" and fields["mode"].choices == ('"fast"', '"safe"')
    assert fields["mode"].value == '"safe"'
    assert fields["labels"].kind == "json" and fields["labels"].multiline
    note = fields["note"]
    assert note.kind == "text" and not note.required and note.value == ""


def test_typed_values_become_arguments_and_problems_name_their_field() -> None:
    fields = edit_fields(tune.schema, CURRENT)
    typed = {
        "pool": " green ",
        "replicas": "8",
        "ratio": "0.25",
        "dry_run": "true",
        "mode": '"fast"',
        "labels": '{"team": "sre"}',
        "note": "",
    }
    arguments, problems = parse_edit(fields, typed)
    assert problems == {}
    assert arguments == {
        "pool": "green",
        "replicas": 8,
        "ratio": 0.25,
        "dry_run": True,
        "mode": "fast",
        "labels": {"team": "sre"},
    }
    valid, problems = check_arguments(tune, arguments)
    assert problems == {} and valid["note"] is None
    bad = {**typed, "replicas": "eight", "labels": "{", "mode": '"slow"', "pool": ""}
    _, problems = parse_edit(fields, bad)
    assert problems == {
        "pool": "required",
        "replicas": "must be a whole number",
        "labels": "is not valid JSON (Expecting property name enclosed in double quotes)",
        "mode": "pick one of the options",
    }
    arguments, _ = parse_edit(fields, {**typed, "replicas": "500"})
    _, problems = check_arguments(tune, arguments)
    assert set(problems) == {"replicas"} and "100" in problems["replicas"]


def test_the_tools_own_validation_is_the_last_word() -> None:
    deploy = demo_registry().get("deploy_service")
    assert deploy is not None
    _, problems = check_arguments(deploy, {"service": "api", "version": "latest!"})
    assert set(problems) == {"version"}
    _, problems = check_arguments(deploy, {"service": "api", "version": "1.2", "extra": 1})
    assert set(problems) == {GENERAL}


def test_the_modal_has_an_input_per_field_and_reads_back_by_name() -> None:
    fields = edit_fields(tune.schema, CURRENT)
    form = EditForm(
        approval_id="appr_0123456789abcdef",
        tool="tune",
        args_sha256="ab" * 32,
        fields=fields,
        require_reason=True,
    )
    modal = edit_modal(form)
    assert modal is not None
    assert modal["callback_id"] == EDIT_MODAL
    assert modal["private_metadata"] == "appr_0123456789abcdef"
    inputs = {b["block_id"]: b for b in modal["blocks"] if b["type"] == "input"}
    assert list(inputs) == [f"arg:{f.name}" for f in fields] + ["reason"]
    assert inputs["reason"]["optional"] is False
    replicas = inputs["arg:replicas"]["element"]
    assert replicas["type"] == "number_input" and replicas["initial_value"] == "12"
    assert replicas["min_value"] == "0" and replicas["max_value"] == "100"
    assert replicas["is_decimal_allowed"] is False
    mode = inputs["arg:mode"]["element"]
    assert mode["type"] == "static_select" and mode["initial_option"]["value"] == '"safe"'
    assert inputs["arg:note"]["optional"] is True
    assert "initial_value" not in inputs["arg:note"]["element"]
    state: dict[str, dict[str, dict[str, Any]]] = {
        "arg:pool": {"value": {"type": "plain_text_input", "value": "green"}},
        "arg:mode": {"value": {"type": "static_select", "selected_option": {"value": '"fast"'}}},
        "arg:note": {"value": {"type": "plain_text_input", "value": None}},
        "reason": {"reason": {"type": "plain_text_input", "value": " because "}},
    }
    assert edit_values(state) == {"pool": "green", "mode": '"fast"', "note": None}
    assert modal_reason(state) == "because"
    problems = {"replicas": "x" * 400, GENERAL: "no"}
    errors = edit_errors(problems, ["pool", "replicas"], reason="needed")
    assert errors == {"arg:replicas": "x" * 149 + "…", "arg:pool": "no", "reason": "needed"}


def test_arguments_too_large_for_slack_are_not_offered_for_editing() -> None:
    fields = edit_fields(tune.schema, {**CURRENT, "note": "n" * 5000})
    form = EditForm("appr_0123456789abcdef", "tune", "ab" * 32, fields, False)
    assert edit_modal(form) is None


def test_a_parameter_whose_name_slack_cannot_show_is_not_offered_for_editing() -> None:
    """A server's schema may name a parameter "" or longer than a block id holds. Left out
    of the form, the edit approved the call without it: an argument silently dropped."""
    for name in ("", "p" * 201):
        schema = {"type": "object", "properties": {"node": {"type": "string"}, name: {}}}
        fields = edit_fields(schema, {"node": "n1", name: "kept"})
        assert name in {f.name for f in fields}
        form = EditForm("appr_0123456789abcdef", "drain", "ab" * 32, fields, False)
        assert edit_modal(form) is None


def test_replies_render_mentions_only_of_held_users_and_of_groups_when_asked() -> None:
    text = "<@U0BOB> <!subteam^S0ONCALL> <@U0EVE> <!channel>"
    held = escape_reply(text, people=("U0BOB", "S0ONCALL"), groups=("S0ONCALL", "<!channel>"))
    assert held == "<@U0BOB> <!subteam^S0ONCALL> &lt;@U0EVE&gt; &lt;!channel&gt;"
    # A group among ``people`` (a model's reply) stays inert: only ``groups`` re-enables it.
    assert "<!subteam" not in escape_reply(text, people=("U0BOB", "S0ONCALL"))
    assert escape_reply(text) == (
        "&lt;@U0BOB&gt; &lt;!subteam^S0ONCALL&gt; &lt;@U0EVE&gt; &lt;!channel&gt;"
    )


def test_a_whole_number_too_long_for_python_is_a_problem_of_its_field() -> None:
    """Read exactly as an int, a number field of 5,000 digits raised Python's own
    "Exceeds the limit (4300 digits) … sys.set_int_max_str_digits" at the approver."""
    fields = edit_fields(tune.schema, CURRENT)
    typed = {f.name: f.value for f in fields} | {"ratio": "9" * 5000}
    _, problems = parse_edit(fields, typed)
    assert "ratio" in problems and "set_int_max_str_digits" not in problems["ratio"]
