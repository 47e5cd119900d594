"""Governance under hostile input: edited values, reasons and tampered records that must
neither break a card, nor an export, nor reach a place they were never meant to."""

from __future__ import annotations

from test_cards_content import NOW, make

from agent_core.surface import CardView
from approvals.records import Edit
from bot.cards import card_blocks
from localslack.blockkit import validate_blocks


def test_an_edit_of_values_full_of_markup_still_fits_the_cards_section() -> None:
    """Escaping turns ``&`` into ``&amp;`` (and ``<`` into ``&lt;``): the edit's difference,
    clipped before escaping, grew past Slack's 3000 characters, and Slack refused the card
    update that showed the edit."""
    capsule = make({"service": "api"})
    edit = Edit(
        approval_id=capsule.id, n=1, user="U0BOB", at="2026-11-02T08:30:00Z",
        base_sha256=capsule.args_sha256, tool_version="v1",
        arguments={"service": "a&b<c>" * 400}, args_sha256="0" * 64, changed=("service",),
        reason="<!channel> & " * 100,
    )  # fmt: skip
    blocks = card_blocks(CardView(capsule, edits=(edit,), now=NOW))
    assert validate_blocks(blocks) == []
    # However many people edited it in turn.
    editors = tuple(
        edit.model_copy(update={"n": n, "user": f"U0EDITOR{n:03d}"}) for n in range(1, 80)
    )
    assert validate_blocks(card_blocks(CardView(capsule, edits=(*editors, edit), now=NOW))) == []
    (shown,) = [b["text"]["text"] for b in blocks if b["block_id"].startswith("edit-")]
    assert "service: " in shown and "a&amp;b&lt;c&gt;" in shown
    assert "<!channel>" not in shown and "&lt;!channel&gt;" in shown
    # Never cut inside an entity: every "&" starts a whole one.
    assert all(part.startswith(("amp;", "lt;", "gt;")) for part in shown.split("&")[1:])
