"""A Home click while Slack's ``views.publish`` hangs: the click is acked at once and
decides exactly as from the card (the card in the thread locks, the call runs once); the
Home that could not be redrawn then is redrawn true once Slack answers again."""

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
    has_buttons,
    home_of,
    mention,
    restarts,
    until,
    wait_card,
    write_policy,
)

from bot.cards import APPROVE
from bot.config import Settings
from localslack import LocalSlack, WorkspaceConfig

if TYPE_CHECKING:
    from conftest import BotFactory

BOB_ONLY = '[tools.restart_service]\napprovers = ["U0BOB"]\n'


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    async with LocalSlack(as_in_manifest(WorkspaceConfig(seed=19, timing=FAST))) as server:
        yield server


async def test_a_home_click_while_publishing_hangs_is_acked_and_decides_once(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    await start_bot(policy_path=write_policy(tmp_path / "policy.toml", BOB_ONLY), slack_timeout_s=2)
    await slack.wait_for_sockets(1, timeout=5)
    await slack.open_app_home(user="U0BOB")
    await home_of(slack, "U0BOB", has="Waiting for you (0)")
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    await home_of(slack, "U0BOB", has="Waiting for you (1)")

    hung = slack.inject_fault(method="views.publish", hang=True, count=None)
    sent = await slack.click_view_button(user="U0BOB", action_id=APPROVE, value=approval)
    done = await slack.wait_for_ack(sent.envelope_id, timeout=3)
    assert not done.timed_out and not done.late_ack and not done.user_saw_error
    found = await until(lambda: decision(settings.home, approval), what="Bob's approval")
    assert found["verdict"] == "approved" and found["deciders"] == ["U0BOB"]
    await until(lambda: restarts(settings.home) == 1, what="the restart")
    await until(
        lambda: not has_buttons(slack.message(channel=OPS, ts=card["ts"])),
        what="the card locked",
    )
    await until(lambda: hung.fired >= 1, what="a publish that hung")

    # A second envelope while publishes still hang: acked at once too.
    again = await slack.open_app_home(user="U0BOB")
    assert again is not None
    assert not (await slack.wait_for_ack(again.envelope_id, timeout=3)).timed_out
    slack.clear_faults()
    await slack.open_app_home(user="U0BOB")
    await home_of(slack, "U0BOB", has="✅ approved by <@U0BOB>", timeout=15)
    assert restarts(settings.home) == 1
