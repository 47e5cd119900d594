"""The ack's answer to a form or command signoff could not read (``bot/unreadable_answers.py``),
shape by shape; the end-to-end tests drive it through Slack's socket
(test_e2e_unreadable_answers)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.unreadable_answers import NOT_TEXT, unreadable_answer

INPUTS = [
    {"type": "section", "block_id": "intro", "text": {"type": "mrkdwn", "text": "hi"}},
    {"type": "input", "block_id": "reason", "element": {"type": "plain_text_input"}},
    {"type": "input", "block_id": "pick", "element": {"type": "multi_static_select"}},
]


def form(values: Any, blocks: Any = INPUTS) -> dict[str, Any]:
    return {"type": "view_submission", "view": {"blocks": blocks, "state": {"values": values}}}


def reason(value: Any) -> dict[str, Any]:
    return {"reason": {"type": "plain_text_input", "value": value}}


def test_each_input_holding_a_lone_surrogate_is_named_and_no_other() -> None:
    picked = {"pick": {"type": "multi_static_select", "selected_options": [{"value": "a\udfff"}]}}
    answer = unreadable_answer(
        "interactive", form({"reason": reason("no \ud800"), **picked}), kept="q"
    )
    assert answer == {"response_action": "errors", "errors": {"reason": NOT_TEXT, "pick": NOT_TEXT}}
    assert len(NOT_TEXT) <= 150  # Slack's limit for an input's error


@pytest.mark.parametrize(
    "payload",
    [
        # the surrogate is in a block the view has as no input: Slack could show no error there
        form({"intro": reason("\ud800")}),
        form({"reason": reason("fine")}),  # readable values: the problem is elsewhere
        form("not an object"),
        form({"reason": reason("\ud800")}, blocks="not a list"),
        # a block id JSON can carry but no set can hold: it raised, and the envelope
        # went unacked
        form({"reason": reason("\ud800")}, blocks=[{"type": "input", "block_id": ["reason"]}]),
        {"type": "view_submission", "view": 7},
        {"type": "view_submission"},
    ],
)
def test_any_other_unreadable_form_is_replaced_by_one_saying_nothing_was_recorded(
    payload: dict[str, Any],
) -> None:
    answer = unreadable_answer("interactive", payload, kept="quar_0123")
    assert answer is not None and answer["response_action"] == "update"
    (section,) = answer["view"]["blocks"]
    text = section["text"]["text"]
    assert "nothing was recorded" in text and "quar_0123" in text


def test_a_form_that_could_not_be_kept_names_no_record() -> None:
    answer = unreadable_answer("interactive", {"type": "view_submission"}, kept="")
    assert answer is not None
    assert "kept" not in answer["view"]["blocks"][0]["text"]["text"]


def test_a_command_is_answered_to_its_sender_only() -> None:
    answer = unreadable_answer("slash_commands", {"command": 7}, kept="quar_0123")
    assert answer is not None and answer["response_type"] == "ephemeral"
    assert "did nothing" in answer["text"] and "quar_0123" in answer["text"]
    unkept = unreadable_answer("slash_commands", {"command": 7}, kept="")
    assert unkept is not None and "kept" not in unkept["text"]


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        ("interactive", {"type": "block_actions", "actions": []}),  # Slack shows no ack body
        ("interactive", {"type": "view_closed"}),
        ("interactive", [1]),
        ("slash_commands", "just text"),  # nothing shows who sent it
        ("events_api", {"type": "event_callback"}),  # a message: nobody waits on its ack
    ],
)
def test_what_has_no_one_to_answer_gets_an_empty_ack(kind: str, payload: Any) -> None:
    assert unreadable_answer(kind, payload, kept="quar_1") is None


def test_a_value_nested_deeper_than_the_stack_is_searched_all_the_same() -> None:
    # JSON carries a value nested far deeper than Python's recursion limit lets a
    # recursive walk go; the walk raised RecursionError and the envelope went unacked.
    deep: Any = "no \ud800"
    for _ in range(5000):
        deep = [{"v": deep}]
    answer = unreadable_answer("interactive", form({"reason": reason(deep)}), kept="q")
    assert answer == {"response_action": "errors", "errors": {"reason": NOT_TEXT}}
    fine: Any = "fine"
    for _ in range(5000):
        fine = [fine]
    answer = unreadable_answer("interactive", form({"reason": reason(fine)}), kept="q")
    assert answer is not None and answer["response_action"] == "update"
