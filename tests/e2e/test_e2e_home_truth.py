"""A Home stays true to what happens for its person: a decision made from a terminal
(another process, with or without the bot's Slack tokens, the card even deleted), a policy
changed by a restart, an escalation, an expiry, and a notice on top of a Home that a later
decision made untrue.

The bot runs in this process on LocalSlack; the terminal is a real ``signoff`` process.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import FAST, restart
from signoff_e2e_kit import (
    OPS,
    approval_id_of,
    as_in_manifest,
    bot_reply,
    home_of,
    home_texts,
    mention,
    until,
    wait_card,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.cards import APPROVE, DENY
from bot.config import Settings
from localslack import LocalSlack, WorkspaceConfig
from sessions import FixedClock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers_proc import cli, ok

if TYPE_CHECKING:
    from conftest import BotFactory


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:  # the manifest's app: it has a Home tab
    async with LocalSlack(as_in_manifest(WorkspaceConfig(seed=11, timing=FAST))) as server:
        yield server


@pytest.mark.parametrize("tokens", [True, False], ids=["with-tokens", "without"])
async def test_a_decision_from_a_terminal_refreshes_an_open_home(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    e2e_clock: FixedClock,
    tokens: bool,
) -> None:
    # Whoever decides, the bot delivers the card (one drainer per home: the terminal
    # leaves it to the running bot even with its tokens), and the card's update is what
    # refreshes the Homes it concerns: within a delivery poll and the debounce.
    await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    await slack.open_app_home(user="U0BOB")
    await home_of(slack, "U0BOB", has="Waiting for you (0)")
    approval = approval_id_of(await wait_card(slack, await mention(slack, "restart api")))
    await home_of(slack, "U0BOB", has="Waiting for you (1)")
    env = (
        {
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_APP_TOKEN": slack.app_token,
            "SLACK_API_URL": slack.api_url,
        }
        if tokens
        else {}
    )
    args = ("deny", approval, "--as", "U0DAVE", "--reason", "not now")
    when = e2e_clock.now().isoformat()  # the terminal on the bot's clock
    ok(await asyncio.to_thread(cli, settings.home, *args, frozen=when, env=env))
    await home_of(slack, "U0BOB", has="Waiting for you (0)", timeout=5)


async def test_a_decision_from_a_terminal_refreshes_a_home_when_the_card_is_gone(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, e2e_clock: FixedClock
) -> None:
    # The bot heard of a terminal's decision only through the card's update: with the card
    # deleted from the channel that update fails, and Bob's Home went on listing the
    # denied request as waiting for him, with its buttons, until he opened it again.
    await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    await slack.open_app_home(user="U0BOB")
    await home_of(slack, "U0BOB", has="Waiting for you (0)")
    card = await wait_card(slack, await mention(slack, "restart api"))
    approval = approval_id_of(card)
    await home_of(slack, "U0BOB", has="Waiting for you (1)")
    web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    await web.chat_delete(channel=card["channel"], ts=card["ts"])  # someone removed it
    args = ("deny", approval, "--as", "U0DAVE", "--reason", "not now")
    when = e2e_clock.now().isoformat()
    ok(await asyncio.to_thread(cli, settings.home, *args, frozen=when))
    await home_of(slack, "U0BOB", has="Waiting for you (0)", timeout=15)


async def test_a_policy_changed_by_a_restart_reaches_homes_drawn_before_it(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path
) -> None:
    # The policy is read at start-up, and a new bot published a Home only on its next
    # change or opening: Dave's, drawn before the restart, went on offering Approve / Deny
    # on a request the new policy no longer lets him decide (his click was refused).
    before = tmp_path / "before.toml"
    before.write_text('[tools.restart_service]\napprovers = ["U0BOB", "U0DAVE"]\n')
    first = await start_bot(policy_path=before)
    await slack.wait_for_sockets(1, timeout=5)
    await slack.open_app_home(user="U0DAVE")
    await home_of(slack, "U0DAVE", has="Waiting for you (0)")
    await wait_card(slack, await mention(slack, "restart api"))
    await home_of(slack, "U0DAVE", has="Waiting for you (1)")
    after = tmp_path / "after.toml"
    after.write_text('[tools.restart_service]\napprovers = ["U0BOB"]\n')
    await restart(first, start_bot, slack, policy_path=after)
    await home_of(slack, "U0DAVE", has="Waiting for you (0)")


async def test_a_notice_goes_once_another_decision_made_it_untrue(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path
) -> None:
    # The answer to a click in the Home stayed on top of it for two minutes, whatever
    # happened next: Bob's Home said "Your approval is counted: 1 of 2." above the
    # request Dave had denied meanwhile.
    policy = tmp_path / "policy.toml"
    policy.write_text("[tools.deploy_service]\nquorum = 2\n")
    await start_bot(policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    await slack.open_app_home(user="U0BOB")
    await home_of(slack, "U0BOB", has="Waiting for you (0)")
    thread = await mention(slack, "deploy web 2.1.0")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    await home_of(slack, "U0BOB", has="0 of 2 approvals")
    await slack.click_view_button(user="U0BOB", action_id=APPROVE, value=approval)
    await home_of(slack, "U0BOB", has="Your approval is counted: 1 of 2.")
    await slack.click_button(
        channel=OPS, ts=card["ts"], user="U0DAVE", action_id=DENY, value=approval
    )
    await until(lambda: slack.open_views(user="U0DAVE"), what="the deny modal")
    await slack.submit_view(user="U0DAVE", values={"reason": {"reason": "freeze"}})
    await bot_reply(slack, thread, "I did not run")
    shown = await home_of(slack, "U0BOB", lacks="You approved it")
    assert "Your approval is counted" not in home_texts(shown)


async def test_an_escalation_lists_the_request_on_the_home_of_whom_it_adds(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path, e2e_clock: FixedClock
) -> None:
    # Already true (the escalation's card update refreshes the people it adds): kept so.
    policy = tmp_path / "policy.toml"
    policy.write_text(
        '[tools.restart_service]\napprovers = ["U0BOB"]\n'
        'escalate_after = "1h"\nescalate_to = ["U0CAROL"]\n'
    )
    bot = await start_bot(policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    await slack.open_app_home(user="U0CAROL")
    await home_of(slack, "U0CAROL", has="Waiting for you (0)")
    thread = await mention(slack, "restart api")
    await wait_card(slack, thread)
    e2e_clock.advance(timedelta(hours=2))
    await bot.engine.sweep()
    await bot_reply(slack, thread, "escalated to")
    await home_of(slack, "U0CAROL", has="Waiting for you (1)")


async def test_an_expiry_takes_the_request_off_an_open_home(
    slack: LocalSlack, start_bot: BotFactory, e2e_clock: FixedClock
) -> None:
    # Already true (the sweep reports the expiry): kept so.
    bot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    await slack.open_app_home(user="U0DAVE")
    await home_of(slack, "U0DAVE", has="Waiting for you (0)")
    await wait_card(slack, await mention(slack, "restart api"))
    await home_of(slack, "U0DAVE", has="Waiting for you (1)")
    e2e_clock.advance(timedelta(days=8))
    await bot.engine.sweep()
    await home_of(slack, "U0DAVE", has="Waiting for you (0)")
