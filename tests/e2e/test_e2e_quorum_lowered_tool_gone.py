"""A quorum the policy in force lowered, completed by a sweep, is not approved for a tool
that left the configuration (or changed) while the request waited.

A click that would approve such a call is refused ("approving this call would run
nothing", ``test_e2e_tool_gone_click.py``). The sweeps, which decide a quorum no click
completed (a crash, or a quorum lowered by the policy in force), approved it all the same:
the card read "Approved by @bob" and the approval was spent on a call refused at its
start. Now a sweep leaves it waiting (its thread told why, once) until its deadline, when
it expires: nothing ran on an approval nobody could use.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conftest import restart
from signoff_e2e_kit import (
    OPS,
    asked_under,
    bot_reply,
    decision,
    ephemeral,
    outcome_text,
    until,
    write_policy,
)

from bot.app import SignoffBot
from bot.cards import APPROVE
from bot.config import Settings
from localslack import LocalSlack
from sessions import FixedClock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers_proc import cli

if TYPE_CHECKING:
    from conftest import BotFactory

# The default rule: a rule naming restart_service would be refused once it is gone.
ONE = '[default]\napprovers = ["U0BOB", "U0CAROL"]\nremind_after = "2h"\n'
TWO = ONE + "quorum = 2\n"


async def _voted_under_two(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path
) -> tuple[SignoffBot, str, dict[str, Any], str, Path]:
    """Asked under a quorum of one, raised to two, and Bob's approval in: 1 of 2."""
    policy = write_policy(tmp_path / "policy.toml", ONE)
    bot, thread, card, approval = await asked_under(slack, start_bot, policy, "restart api")
    write_policy(policy, TWO)
    bot = await restart(bot, start_bot, slack, policy_path=policy)
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await ephemeral(slack, "U0BOB", "1 of 2")
    await bot.engine.idle()
    return bot, thread, card, approval, policy


async def test_a_sweep_does_not_approve_a_lowered_quorum_for_a_tool_that_left(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    e2e_clock: FixedClock,
    tmp_path: Path,
) -> None:
    bot, thread, card, approval, policy = await _voted_under_two(slack, start_bot, tmp_path)
    write_policy(policy, ONE)  # back to one: Bob's approval is a quorum again
    bot = await restart(bot, start_bot, slack, policy_path=policy, demo_tools=False)

    e2e_clock.advance(timedelta(hours=2, minutes=1))  # the reminder's pass
    await bot.engine.sweep()
    await bot.engine.idle()
    assert decision(settings.home, approval) is None
    note = await bot_reply(slack, thread, "cannot be approved now")
    assert "restart_service" in note["text"], note
    # Nor does the reminder of the same pass ask Carol to approve what nobody can.
    reminder = await bot_reply(slack, thread, "Reminder 1")
    assert "please approve" not in reminder["text"], reminder
    assert "cannot be approved now" in reminder["text"], reminder

    e2e_clock.advance(timedelta(days=1))  # past its deadline
    await bot.engine.sweep()
    await bot.engine.idle()
    made = decision(settings.home, approval)
    assert made is not None and made["verdict"] == "expired", made
    await until(
        lambda: "Expired" in outcome_text(slack.message(channel=OPS, ts=card["ts"])),
        what="the card to say it expired",
    )


async def test_a_terminal_recovery_leaves_a_quorum_for_a_tool_it_lacks_to_the_bot(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    e2e_clock: FixedClock,
    tmp_path: Path,
) -> None:
    """A terminal cannot see the bot's tools (``Runtime.tools_elsewhere``), so it could not
    tell whether a quorum its sweep completes would run anything: it approved it, and left
    the call to a bot that lacked the tool too, which refused it at its start under a card
    saying "Approved". It now leaves such a quorum to the bot, which can tell."""
    bot, thread, card, approval, policy = await _voted_under_two(slack, start_bot, tmp_path)
    write_policy(policy, ONE)  # back to one: Bob's approval is a quorum again
    await bot.engine.idle()
    await bot.stop(grace=5)
    await until(lambda: not slack.sockets(), what="the bot's socket to close")
    e2e_clock.advance(timedelta(hours=2, minutes=1))  # the reminder's pass
    done = await asyncio.to_thread(
        cli,
        settings.home,
        *("recover", "--apply-policy"),
        frozen=e2e_clock.now().isoformat(),
        policy=policy,
        env={
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_APP_TOKEN": slack.app_token,
            "SLACK_API_URL": slack.api_url,
            "SIGNOFF_DEMO": "0",  # this shell lacks restart_service
        },
    )
    assert "Traceback" not in done.stderr, done
    assert decision(settings.home, approval) is None, done

    # The bot, which lacks it too, does not approve it either, and says why.
    bot = await start_bot(policy_path=policy, demo_tools=False)
    await slack.wait_for_sockets(1, timeout=5)
    await bot.engine.sweep()
    await bot.engine.idle()
    assert decision(settings.home, approval) is None
    note = await bot_reply(slack, thread, "cannot be approved now")
    assert "restart_service" in note["text"], note


async def test_an_escalation_does_not_ask_to_approve_a_call_that_would_run_nothing(
    slack: LocalSlack, start_bot: BotFactory, e2e_clock: FixedClock, tmp_path: Path
) -> None:
    """The escalation's post told those it added that they "may now approve or deny it",
    a click that would be refused: its tool left while it waited. It says why it cannot
    be approved now, as the reminder does."""
    escalating = '[default]\napprovers = ["U0BOB"]\nescalate_after = "1h"\n'
    policy = write_policy(tmp_path / "policy.toml", escalating + 'escalate_to = ["U0DAVE"]\n')
    bot, thread, _, _ = await asked_under(slack, start_bot, policy, "restart api")
    bot = await restart(bot, start_bot, slack, policy_path=policy, demo_tools=False)

    e2e_clock.advance(timedelta(hours=1, minutes=1))
    await bot.engine.sweep()
    escalated = await bot_reply(slack, thread, "escalated to")
    assert "<@U0DAVE>" in escalated["text"], escalated
    assert "may now approve" not in escalated["text"], escalated
    assert "cannot be approved now" in escalated["text"], escalated
