"""A Home tab click after an approver edited the request: the Home's Approve stands for
the call it showed, exactly as the card's does (the hash its block names). A Home that
was not redrawn after the edit (Slack refused the publish) approves nothing it did not
show; a Home redrawn after it shows, and approves, the edited call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import FAST
from signoff_e2e_kit import (
    OPS,
    approval_id_of,
    as_in_manifest,
    decision,
    home_buttons,
    home_of,
    home_texts,
    mention,
    scales,
    until,
    wait_card,
    write_policy,
)

from bot.card_governance import EDIT
from bot.cards import APPROVE
from bot.config import Settings
from bot.edit_modal import EDIT_MODAL
from localslack import LocalSlack, WorkspaceConfig

if TYPE_CHECKING:
    from conftest import BotFactory

TWO_OF_THREE = '[tools.scale_service]\napprovers = ["U0BOB", "U0CAROL", "U0DAVE"]\nquorum = 2\n'
EDITED: dict[str, dict[str, object]] = {
    "arg:service": {"value": "api"},
    "arg:replicas": {"value": "8"},
    "reason": {"reason": "12 would starve the db"},
}


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    async with LocalSlack(as_in_manifest(WorkspaceConfig(seed=13, timing=FAST))) as server:
        yield server


async def asked(slack: LocalSlack, start_bot: BotFactory, tmp_path: Path) -> tuple[str, str]:
    """Alice asks to scale api to 12, and Carol's Home shows it: (approval id, card ts)."""
    await start_bot(policy_path=write_policy(tmp_path / "policy.toml", TWO_OF_THREE))
    await slack.wait_for_sockets(1, timeout=5)
    await slack.open_app_home(user="U0CAROL")
    await home_of(slack, "U0CAROL", has="Waiting for you (0)")
    thread = await mention(slack, "scale api to 12")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    await home_of(slack, "U0CAROL", has="replicas=12")
    return approval, str(card["ts"])


async def bob_edits(slack: LocalSlack, card_ts: str) -> None:
    await slack.click_button(channel=OPS, ts=card_ts, user="U0BOB", action_id=EDIT)
    (modal,) = await until(lambda: slack.open_views(user="U0BOB"), what="Bob's edit modal")
    assert modal["callback_id"] == EDIT_MODAL
    await slack.submit_view(user="U0BOB", callback_id=EDIT_MODAL, values=EDITED)


async def test_a_home_not_redrawn_after_an_edit_approves_nothing_it_did_not_show(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    approval, card_ts = await asked(slack, start_bot, tmp_path)
    assert home_buttons(slack.home_view(user="U0CAROL"))
    # Slack refuses every publish from now on: Carol's Home still shows replicas=12.
    refused = slack.inject_fault(method="views.publish", error="internal_error", count=None)
    await bob_edits(slack, card_ts)
    await until(lambda: refused.fired >= 1, what="a publish after the edit")
    assert "replicas=12" in home_texts(slack.home_view(user="U0CAROL"))

    sent = await slack.click_view_button(user="U0CAROL", action_id=APPROVE, value=approval)
    done = await slack.wait_for_ack(sent.envelope_id, timeout=5)
    assert not done.user_saw_error and not done.late_ack
    await until(lambda: refused.fired >= 2, what="Carol told on her Home", timeout=10)
    assert decision(settings.home, approval) is None
    assert scales(settings.home) == []
    slack.clear_faults()
    await slack.open_app_home(user="U0CAROL")
    shown = home_texts(await home_of(slack, "U0CAROL", has="replicas=8"))
    assert "1 of 2 approvals: <@U0BOB>" in shown
    assert "the arguments were edited after you saw them" in shown, shown


async def test_a_home_redrawn_after_an_edit_approves_the_edited_call(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    approval, card_ts = await asked(slack, start_bot, tmp_path)
    await bob_edits(slack, card_ts)
    await home_of(slack, "U0CAROL", has="replicas=8", lacks="replicas=12")
    await slack.click_view_button(user="U0CAROL", action_id=APPROVE, value=approval)
    found = await until(lambda: decision(settings.home, approval), what="the decision")
    assert found["verdict"] == "approved"
    assert sorted(found["deciders"]) == ["U0BOB", "U0CAROL"]
    (ran,) = await until(lambda: scales(settings.home), what="the edited call ran")
    assert ran["replicas"] == 8, ran
    await home_of(slack, "U0CAROL", has="approved by", lacks="replicas=12")
