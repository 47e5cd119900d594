"""Block Kit cards stay within Slack's limits; long replies split without losing text."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agent_core.surface import CardView
from approvals import Capsule, Decision, PolicyRule, build_capsule
from bot.card_governance import EDIT
from bot.cards import APPROVE, DENY, card_blocks
from bot.reason_modal import deny_modal
from bot.reply_parts import MESSAGE_LIMIT, split_message
from sessions import ThreadKey

THREAD = ThreadKey(team="T0LOCAL", channel="C0OPS", thread_ts="1700000000.000100")


def capsule(arguments: dict[str, object], reason: str = "asked: restart api") -> Capsule:
    return build_capsule(
        session_id="sess_0123456789ab",
        thread=THREAD,
        call_id="c1",
        tool="deploy_service",
        tool_version="v1",
        arguments=arguments,
        requester="U0ALICE",
        reason=reason,
        policy=PolicyRule(quorum=2, approver_groups=("S0OPS",)),
        now=datetime(2026, 11, 2, tzinfo=UTC),
    )


def _check_limits(blocks: list[dict[str, Any]]) -> None:
    assert len(blocks) <= 50
    ids = [b["block_id"] for b in blocks]
    assert len(ids) == len(set(ids))
    for block in blocks:
        assert len(block["block_id"]) <= 255
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= 3000
        for field in block.get("fields", []):
            assert len(field["text"]) <= 2000
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        for element in block.get("elements", []):
            if element.get("type") == "button":
                assert len(element["value"]) <= 2000
                assert len(element["text"]["text"]) <= 75


def test_open_card_carries_only_the_approval_id_in_its_buttons() -> None:
    c = capsule({"service": "api", "version": "1.5.0"})
    blocks = card_blocks(CardView(c))
    _check_limits(blocks)
    buttons = blocks[-1]["elements"]
    assert [b["action_id"] for b in buttons] == [APPROVE, EDIT, DENY]
    assert {b["value"] for b in buttons} == {c.id}
    text = str(blocks)
    assert c.short_hash in text
    assert "0 of 2 approvals" in text
    assert "<@U0ALICE>" in text


def test_huge_and_hostile_arguments_are_truncated_and_escaped() -> None:
    c = capsule({"payload": "x" * 50_000, "evil": "```<!channel> & <@U0BOB>```"}, reason="y" * 5000)
    blocks = card_blocks(CardView(c))
    _check_limits(blocks)
    text = str(blocks)
    assert "more characters; full call in the trace" in text
    assert "<!channel>" not in text
    assert "&lt;!channel&gt;" in text


def test_decided_card_has_no_buttons_and_says_who_and_when() -> None:
    c = capsule({"service": "api"})
    decision = Decision(
        approval_id=c.id,
        verdict="denied",
        deciders=("U0BOB",),
        at="2026-11-04T10:00:00.000Z",
        reason="freeze",
        args_sha256=c.args_sha256,
    )
    blocks = card_blocks(CardView(c, decision))
    _check_limits(blocks)
    assert all(b["type"] != "actions" for b in blocks)
    when = "<!date^1793786400^{date_short_pretty} at {time}|2026-11-04 10:00 UTC>"
    assert f"Denied by <@U0BOB> · {when}" in str(blocks)
    assert "freeze" in str(blocks)
    open_ids = {b["block_id"] for b in card_blocks(CardView(c))}
    assert open_ids.isdisjoint({b["block_id"] for b in blocks})  # new ids, so clients redraw


def test_deny_modal_remembers_the_request() -> None:
    c = capsule({"service": "api"})
    modal = deny_modal(c)
    assert modal["private_metadata"] == c.id
    assert modal["blocks"][1]["optional"] is True


def test_split_message_keeps_every_character_and_balances_code_fences() -> None:
    paragraphs = [f"paragraph {i}: " + "word " * 150 for i in range(40)]
    text = (
        "\n\n".join(paragraphs[:20])
        + "\n\n```\n"
        + "code line\n" * 800
        + "```\n"
        + "\n\n".join(paragraphs[20:])
    )
    parts = split_message(text)
    assert len(parts) > 1
    assert all(len(p) <= MESSAGE_LIMIT + 8 for p in parts)
    assert all(p.count("```") % 2 == 0 for p in parts)
    joined = "".join(parts).replace("```", "").replace("\n", "").replace(" ", "")
    assert joined == text.replace("```", "").replace("\n", "").replace(" ", "")
    assert split_message("short") == ["short"]
    hard = split_message("z" * 10_000)
    assert "".join(hard) == "z" * 10_000
