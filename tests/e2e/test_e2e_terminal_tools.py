"""A terminal decides only a call it could run: one started without the bot's tools
(another SIGNOFF_CONFIG, SIGNOFF_TOOLS or SIGNOFF_DEMO) must not spend the approval.

The bot runs in this process on LocalSlack; the terminal is a real ``signoff`` process.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from signoff_e2e_kit import (
    OPS,
    approval_id_of,
    bot_reply,
    decision,
    has_buttons,
    mention,
    restarts,
    wait_card,
)

from bot.cards import APPROVE
from bot.config import Settings
from localslack import LocalSlack
from sessions import FixedClock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers_proc import cli

if TYPE_CHECKING:
    from conftest import BotFactory


async def test_a_terminal_without_the_tool_refuses_to_approve_and_spends_nothing(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, e2e_clock: FixedClock
) -> None:
    bot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    tokens = {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_APP_TOKEN": slack.app_token,
        "SLACK_API_URL": slack.api_url,
    }
    # The operator's shell lacks the bot's tools (here: no simulated fleet). It used to
    # record the approval and run the turn itself, which failed the call as "no longer
    # registered": the approval spent, the card and thread saying a tool the bot has was gone.
    when = e2e_clock.now().isoformat()
    done = await asyncio.to_thread(
        cli,
        settings.home,
        *("approve", approval, "--as", "U0BOB"),
        frozen=when,
        env={**tokens, "SIGNOFF_DEMO": "0"},
    )
    assert done.returncode == 2, done
    assert "restart_service" in done.stderr and len(done.stderr.splitlines()) == 1, done
    assert "Traceback" not in done.stderr and done.stdout == "", done
    assert decision(settings.home, approval) is None
    await bot.engine.idle()
    assert has_buttons(slack.message(channel=OPS, ts=card["ts"]))

    # The request still waits, and approved where the tool is, it runs once.
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await bot_reply(slack, thread, "restart_service` finished")
    await bot.engine.idle()
    assert restarts(settings.home) == 1
