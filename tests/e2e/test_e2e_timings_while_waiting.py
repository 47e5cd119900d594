"""A waiting request keeps the timings it was asked under when the policy changes: its
deadline, its reminders and its escalation's time come from the rule captured in its
capsule, and its card shows that deadline throughout, the one it is decided by; who may
decide it (approvers, quorum, escalation targets) and ``valid_for`` follow the policy in
force too. This pins what signoff does; docs/design-notes.md ("A policy change does not
move a waiting request's clocks") says why, and what tightening the deadline would take.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conftest import restart
from signoff_e2e_kit import (
    OPS,
    asked_under,
    bot_messages,
    bot_reply,
    decision,
    existing_message,
    restarts,
    until,
    write_policy,
)

from bot.cards import APPROVE
from bot.config import Settings
from localslack import LocalSlack
from sessions import FixedClock

if TYPE_CHECKING:
    from conftest import BotFactory

ASKED = """
[tools.restart_service]
approvers = ["U0BOB"]
expires_after = "1d"
remind_after = "6h"
"""
# Tightened while it waits: a shorter deadline, an earlier reminder.
TIGHTER = ASKED.replace('"1d"', '"1h"').replace('"6h"', '"30m"')


def _deadline(message: dict[str, Any]) -> str:
    return str(
        next(
            field["text"]
            for block in message["blocks"]
            for field in block.get("fields", ())
            if field["text"].startswith("*Expires*")
        )
    )


async def test_a_tightened_policy_leaves_a_waiting_requests_timings_and_card_as_asked(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    e2e_clock: FixedClock,
    tmp_path: Path,
) -> None:
    policy = write_policy(tmp_path / "policy.toml", ASKED)
    bot, thread, card, approval = await asked_under(slack, start_bot, policy, "restart api")
    shown = _deadline(card)
    assert "1 day after the request" in shown, shown
    write_policy(policy, TIGHTER)
    bot = await restart(bot, start_bot, slack, policy_path=policy)

    e2e_clock.advance(timedelta(hours=2))  # past the new rule's deadline and reminder
    await bot.engine.sweep()
    await bot.engine.idle()
    assert decision(settings.home, approval) is None
    assert not bot_messages(slack, thread, "Reminder")
    assert _deadline(existing_message(slack, channel=OPS, ts=card["ts"])) == shown

    e2e_clock.advance(timedelta(hours=4, minutes=1))  # the captured reminder's time
    await bot.engine.sweep()
    await bot_reply(slack, thread, "Reminder 1")
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await until(lambda: restarts(settings.home) == 1, what="the call to run")
