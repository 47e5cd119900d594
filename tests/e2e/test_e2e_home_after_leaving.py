"""A person who left a private channel decides nothing asked there from their Home tab.

Who can see a channel is cached for a minute (a Home lists many requests, each a Slack
look-up). A Home click decided with that cache: for up to a minute after Bob left (or was
removed from) #incident-private, his Home's Approve decided a request asked there. A click
now asks Slack afresh; the cache still serves drawing Homes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import FAST
from signoff_e2e_kit import (
    CARD_TITLE,
    approval_id_of,
    as_in_manifest,
    decision,
    home_buttons,
    home_of,
    write_policy,
)

from bot.cards import APPROVE
from bot.config import Settings
from localslack import LocalSlack, WorkspaceConfig

if TYPE_CHECKING:
    from conftest import BotFactory

PRIVATE = "C0PRIVATE"


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:  # the manifest's app: it has a Home tab
    async with LocalSlack(as_in_manifest(WorkspaceConfig(seed=11, timing=FAST))) as server:
        yield server


async def test_a_home_click_after_leaving_the_channel_is_refused(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    policy = write_policy(
        tmp_path / "policy.toml", '[tools.restart_service]\napprovers = ["U0BOB"]\n'
    )
    bot = await start_bot(policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    await slack.join_channel(channel=PRIVATE, user="U0BOB")
    asked = await slack.post_message(
        channel=PRIVATE, user="U0ALICE", text="<@U0SIGNOFF> restart api please"
    )
    card = await slack.wait_for_message(
        channel=PRIVATE, thread_ts=asked, from_bot=True, text_contains=CARD_TITLE, timeout=10
    )
    approval = approval_id_of(card)
    await slack.open_app_home(user="U0BOB")
    bobs = await home_of(slack, "U0BOB", has="Waiting for you (1)")
    value = next(v for a, v in home_buttons(bobs) if a == APPROVE)

    await slack.leave_channel(channel=PRIVATE, user="U0BOB")
    await slack.click_view_button(user="U0BOB", action_id=APPROVE, value=value)
    await home_of(slack, "U0BOB", has="This request is not on your Home tab.")
    await bot.engine.idle()
    assert decision(settings.home, approval) is None
