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

    e2e_clock.advance(timedelta(days=1))  # past its deadline
    await bot.engine.sweep()
    await bot.engine.idle()
    made = decision(settings.home, approval)
    assert made is not None and made["verdict"] == "expired", made
    await until(
        lambda: "Expired" in outcome_text(slack.message(channel=OPS, ts=card["ts"])),
        what="the card to say it expired",
    )
