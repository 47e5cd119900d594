"""A terminal decides only a call it could run: one started without the bot's tools
(another SIGNOFF_CONFIG, SIGNOFF_TOOLS or SIGNOFF_DEMO) must not spend the approval.

The bot runs in this process on LocalSlack; the terminal is a real ``signoff`` process.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from signoff_e2e_kit import (
    OPS,
    approval_id_of,
    bot_reply,
    decision,
    has_buttons,
    mention,
    restarts,
    until,
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


def tokens_of(slack: LocalSlack) -> dict[str, str]:
    """The bot's Slack settings, as an operator's shell beside it would have them."""
    return {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_APP_TOKEN": slack.app_token,
        "SLACK_API_URL": slack.api_url,
    }


async def test_a_terminal_without_the_tool_refuses_to_approve_and_spends_nothing(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, e2e_clock: FixedClock
) -> None:
    bot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    # The operator's shell lacks the bot's tools (here: no simulated fleet). It used to
    # record the approval and run the turn itself, which failed the call as "no longer
    # registered": the approval spent, the card and thread saying a tool the bot has was gone.
    when = e2e_clock.now().isoformat()
    done = await asyncio.to_thread(
        cli,
        settings.home,
        *("approve", approval, "--as", "U0BOB"),
        frozen=when,
        env={**tokens_of(slack), "SIGNOFF_DEMO": "0"},
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


async def frozen_approval(slack: LocalSlack, start_bot: BotFactory, home: Path) -> tuple[str, str]:
    """A request approved on its card while the kill switch was on (frozen, not run), the
    bot then stopped and the switch taken off: (its thread, its approval id)."""
    bot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    (home / "KILL").touch()
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await until(lambda: decision(home, approval) is not None, what="the decision")
    await bot.engine.idle()
    await bot.stop(grace=5)
    await until(lambda: not slack.sockets(), what="the old bot's socket to close")
    (home / "KILL").unlink()
    return thread, approval


def not_started(home: Path, approval: str) -> bool:
    return not list(home.glob(f"sessions/*/*/approvals/{approval}.claim.json")) and not list(
        home.glob(f"sessions/*/*/approvals/{approval}.result.json")
    )


@pytest.mark.parametrize("verb", ["recover", "say"])
async def test_a_terminal_without_the_tool_leaves_an_approved_call_to_the_bot(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    e2e_clock: FixedClock,
    verb: str,
) -> None:
    home = settings.home
    thread, approval = await frozen_approval(slack, start_bot, home)
    # `signoff recover`, or `say` in that thread, from a shell without the bot's tools used
    # to run the thread's turn and fail the call as "no longer registered", spending an
    # approval the bot could still run. recover says so and stops; say's turn leaves the
    # call to the bot (a check before the turn could not see a click landing meanwhile).
    args = {
        "recover": ("recover",),
        "say": ("say", "--as", "U0ALICE", "--channel", OPS, "--thread", thread, "status?"),
    }[verb]
    when = e2e_clock.now().isoformat()
    done = await asyncio.to_thread(
        cli, home, *args, frozen=when, env={**tokens_of(slack), "SIGNOFF_DEMO": "0"}
    )
    assert "Traceback" not in done.stderr, done
    if verb == "recover":  # said before anything is done: nothing here could run it
        assert done.returncode == 2, done
        assert "restart_service" in done.stderr.splitlines()[-1], done
    else:  # the message is answered; the call waits for the bot ("not run yet")
        assert done.returncode == 0, done
        assert "not among this terminal's tools" in done.stdout, done
        line = done.stderr.splitlines()[
            -1
        ]  # after the warnings of its start  # and to the person at the terminal, each time
        assert approval in line and "did not run here" in line, done
    assert not_started(home, approval)

    # The bot, started with its tools, runs it once.
    bot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    await until(lambda: restarts(home) == 1, timeout=30, what="the bot to run the call")
    await bot.engine.idle()
    assert restarts(home) == 1


async def test_a_terminal_refusal_does_not_send_to_a_bot_that_lacks_the_tool_too(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, e2e_clock: FixedClock
) -> None:
    """The refusal told the operator to give the terminal "the bot's SIGNOFF_CONFIG …, or
    leave the call to the bot", as if the bot had the tool; a tool that left the bot's
    configuration too can run nowhere, and the terminal cannot see the bot's tools. It now
    says both cases, and what to do when the bot lacks it: deny it."""
    bot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    await bot.engine.idle()
    await bot.stop(grace=5)  # and the bot, started again, lacks restart_service too
    await until(lambda: not slack.sockets(), what="the old bot's socket to close")
    bot = await start_bot(demo_tools=False)
    await slack.wait_for_sockets(1, timeout=5)
    when = e2e_clock.now().isoformat()
    done = await asyncio.to_thread(
        cli,
        settings.home,
        *("approve", approval, "--as", "U0BOB"),
        frozen=when,
        env={**tokens_of(slack), "SIGNOFF_DEMO": "0"},
    )
    assert done.returncode == 2, done
    (line,) = done.stderr.splitlines()
    assert "where the bot lacks it too" in line and f"signoff deny {approval}" in line, done
    assert decision(settings.home, approval) is None
