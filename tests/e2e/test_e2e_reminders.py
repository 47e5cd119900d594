"""Reminders and escalation through Slack, driven by the injected clock over hours.

The bot restarts between every step: what is due, and what was already posted, is on disk
only. The last test leaves the sweep to the bot's own loop (every 5 s), to show a due
reminder goes out within 10 s without anyone calling it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from conftest import restart as restart_bot
from signoff_e2e_kit import (
    OPS,
    asked_under,
    bot_messages,
    bot_reply,
    ephemeral,
    existing_decision,
    existing_message,
    mention,
    outcome_text,
    restarts,
    until,
    wait_card,
    write_policy,
)

from bot.app import SignoffBot
from bot.cards import APPROVE
from bot.config import Settings
from localslack import LocalSlack
from sessions import FixedClock

if TYPE_CHECKING:
    from conftest import BotFactory


POLICY = """
[tools.restart_service]
approvers = ["U0BOB"]
remind_after = "2h"
max_reminders = 2
escalate_after = "5h"
escalate_to = ["S0ONCALL"]
expires_after = "2d"
"""


async def restart(
    bot: SignoffBot,
    start_bot: BotFactory,
    slack: LocalSlack,
    policy: Path,
    *,
    while_down: Callable[[], object] | None = None,
) -> SignoffBot:
    fresh = await restart_bot(bot, start_bot, slack, policy_path=policy, while_down=while_down)
    await fresh.engine.idle()
    return fresh


async def test_reminders_then_escalation_each_once_across_restarts(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    e2e_clock: FixedClock,
    tmp_path: Path,
) -> None:
    policy = write_policy(tmp_path / "policy.toml", POLICY)
    bot, thread, card, approval = await asked_under(slack, start_bot, policy, "restart api")
    home = settings.home
    bot = await restart(bot, start_bot, slack, policy)
    await bot.engine.sweep()
    await bot.engine.idle()
    assert bot_messages(slack, thread, "Reminder") == []  # not due yet

    e2e_clock.advance(timedelta(hours=2))
    bot = await restart(bot, start_bot, slack, policy)  # start-up recovery sweeps too
    first = await bot_reply(slack, thread, "Reminder 1 of 2")
    assert "<@U0BOB>" in first["text"] and "has waited 2h" in first["text"]
    assert "<@U0ALICE>" in first["text"]  # who asked, by name
    for _ in range(2):
        bot = await restart(bot, start_bot, slack, policy)
        await bot.engine.sweep()
        await bot.engine.idle()
    assert len(bot_messages(slack, thread, "Reminder")) == 1  # never repeated

    e2e_clock.advance(timedelta(hours=2))
    await bot.engine.sweep()
    await bot_reply(slack, thread, "Reminder 2 of 2")
    bot = await restart(bot, start_bot, slack, policy)

    # Carol is in S0ONCALL but not an approver yet.
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0CAROL", action_id=APPROVE)
    await ephemeral(slack, "U0CAROL", "not an approver")
    e2e_clock.advance(timedelta(hours=1))
    await bot.engine.sweep()
    escalated = await bot_reply(slack, thread, "escalated to")
    assert "<!subteam^S0ONCALL>" in escalated["text"] and "after 5h" in escalated["text"]
    await until(
        lambda: (
            "Escalated to"
            in json.dumps(existing_message(slack, channel=OPS, ts=card["ts"])["blocks"])
        ),
        what="the card showing the escalation",
    )
    bot = await restart(bot, start_bot, slack, policy)
    e2e_clock.advance(timedelta(hours=12))
    await bot.engine.sweep()
    bot = await restart(bot, start_bot, slack, policy)
    assert len(bot_messages(slack, thread, "Reminder")) == 2  # max_reminders
    assert len(bot_messages(slack, thread, "escalated to")) == 1

    # The escalation is what authorization reads: Carol may decide now.
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0CAROL", action_id=APPROVE)
    await bot_reply(slack, thread, "restart_service` finished")
    await bot.engine.idle()
    assert existing_decision(home, approval)["deciders"] == ["U0CAROL"]
    assert restarts(home) == 1
    assert "Approved by <@U0CAROL>" in outcome_text(slack.message(channel=OPS, ts=card["ts"]))


async def test_the_bots_own_sweep_posts_a_due_reminder_within_ten_seconds(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    e2e_clock: FixedClock,
    tmp_path: Path,
) -> None:
    policy = write_policy(tmp_path / "policy.toml", POLICY)
    bot: SignoffBot = await start_bot(policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    assert bot.sweep_every == 5.0
    thread = await mention(slack, "restart api")
    await wait_card(slack, thread)
    await bot.engine.idle()
    e2e_clock.advance(timedelta(hours=2, seconds=1))
    # No sweep is called here: the bot's loop finds the due marker on its own.
    reminder = await bot_reply(slack, thread, "Reminder 1 of 2", timeout=10)
    assert "<@U0BOB>" in reminder["text"]


async def test_the_bots_own_sweep_escalates_and_expires_within_ten_seconds(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    e2e_clock: FixedClock,
    tmp_path: Path,
) -> None:
    # Issue 13: escalations and expiries, like reminders, fire within 10 s of being due.
    # The clock jumps after start-up recovery has swept, so only the bot's loop can post them.
    escalating = '[tools.restart_service]\napprovers = ["U0BOB"]\nescalate_after = "5h"\n'
    escalating += 'escalate_to = ["S0ONCALL"]\nexpires_after = "2d"\n'
    policy = write_policy(tmp_path / "policy.toml", escalating)
    bot, thread, card, approval = await asked_under(slack, start_bot, policy, "restart api")
    assert bot.sweep_every == 5.0
    await bot.engine.idle()

    e2e_clock.advance(timedelta(hours=5, seconds=1))
    escalated = await bot_reply(slack, thread, "escalated to", timeout=10)
    assert "<!subteam^S0ONCALL>" in escalated["text"]

    e2e_clock.advance(timedelta(days=2))
    told = await bot_reply(slack, thread, "was not run", timeout=10)
    assert "restart_service" in told["text"]
    await until(
        lambda: "Expired" in outcome_text(slack.message(channel=OPS, ts=card["ts"])),
        what="the card showing the expiry",
        timeout=10,
    )
    verdict = existing_decision(settings.home, approval)
    assert verdict["verdict"] == "expired" and verdict["deciders"] == ["signoff"]
    assert len(bot_messages(slack, thread, "escalated to")) == 1


async def test_what_fell_due_while_the_bot_was_down_says_how_long_it_really_waited(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    e2e_clock: FixedClock,
    tmp_path: Path,
) -> None:
    # Both reminders and the escalation fell due during a day and a half with no bot: one
    # reminder and the escalation are posted at start-up, and they said "has waited 4h" and
    # "after 5h" (when each was due) of a request that had waited 1d 12h.
    policy = write_policy(tmp_path / "policy.toml", POLICY)
    bot, thread, card, approval = await asked_under(slack, start_bot, policy, "restart api")
    down_36h = partial(e2e_clock.advance, timedelta(hours=36))
    bot = await restart(bot, start_bot, slack, policy, while_down=down_36h)
    reminder = await bot_reply(slack, thread, "Reminder 2 of 2")
    escalated = await bot_reply(slack, thread, "escalated to")
    assert "has waited 1d 12h for a decision" in reminder["text"]
    assert "after 1d 12h: escalated to" in escalated["text"]
    for _ in range(2):  # still each once
        bot = await restart(bot, start_bot, slack, policy)
        await bot.engine.sweep()
        await bot.engine.idle()
    assert len(bot_messages(slack, thread, "Reminder")) == 1
    assert len(bot_messages(slack, thread, "escalated to")) == 1


async def test_a_reminder_pings_who_may_decide_under_the_policy_in_force(
    slack: LocalSlack, start_bot: BotFactory, e2e_clock: FixedClock, tmp_path: Path
) -> None:
    # Asked while anyone but Alice could decide; then the policy names Bob alone. A click
    # must pass both rules, so only Bob may decide, yet the reminder said "Anyone but the
    # requester may decide it" and pinged nobody.
    opened = '[tools.restart_service]\napprovers = ["anyone"]\nremind_after = "2h"\n'
    policy = write_policy(tmp_path / "policy.toml", opened)
    bot, thread, _, _ = await asked_under(slack, start_bot, policy, "restart api")
    write_policy(policy, opened.replace('"anyone"', '"U0BOB"'))
    bot = await restart(bot, start_bot, slack, policy)
    e2e_clock.advance(timedelta(hours=2))
    await bot.engine.sweep()
    reminder = await bot_reply(slack, thread, "Reminder 1 of 3")
    assert "<@U0BOB>: please approve or deny it" in reminder["text"]
    assert "Anyone" not in reminder["text"]

    # Asked of Bob and Carol, then Carol is no longer named: she was pinged, to be refused.
    narrowed = '[tools.restart_service]\napprovers = ["U0BOB", "U0CAROL"]\nremind_after = "2h"\n'
    write_policy(policy, narrowed)
    bot = await restart(bot, start_bot, slack, policy)
    thread = await mention(slack, "restart web")
    await wait_card(slack, thread)
    write_policy(policy, narrowed.replace(', "U0CAROL"', ""))
    bot = await restart(bot, start_bot, slack, policy)
    e2e_clock.advance(timedelta(hours=2))
    await bot.engine.sweep()
    reminder = await bot_reply(slack, thread, "Reminder 1 of 3")
    assert "<@U0BOB>: please" in reminder["text"] and "<@U0CAROL>" not in reminder["text"]
