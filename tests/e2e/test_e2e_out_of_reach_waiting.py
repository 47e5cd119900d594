"""A waiting request whose quorum a policy change put out of reach says so to whoever it
asks: the approver whose click counts, and the reminder.

The card said "This request cannot be approved under the policy in force", but Bob's
Approve was answered "Your approval is counted: 1 of 2", as if a second approval could
come, and the reminder pinged him to "please approve or deny it". Both now say that it
cannot be approved under the policy in force, only denied (or the policy changed).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from conftest import restart
from signoff_e2e_kit import OPS, asked_under, bot_reply, ephemeral, until, write_policy

from bot.card_governance import EDIT
from bot.cards import APPROVE
from bot.edit_modal import EDIT_MODAL
from localslack import LocalSlack
from sessions import FixedClock

if TYPE_CHECKING:
    from conftest import BotFactory

BEFORE = """
[tools.restart_service]
approvers = ["U0BOB", "U0CAROL"]
quorum = 2
remind_after = "1h"
"""
# Alice asks: of both rules, and the requester set aside, Bob alone may decide.
AFTER = BEFORE.replace("U0CAROL", "U0ALICE")


async def test_a_reminder_and_a_counted_click_say_the_quorum_is_out_of_reach(
    slack: LocalSlack, start_bot: BotFactory, e2e_clock: FixedClock, tmp_path: Path
) -> None:
    policy = write_policy(tmp_path / "policy.toml", BEFORE)
    bot, thread, card, _ = await asked_under(slack, start_bot, policy, "restart api")
    write_policy(policy, AFTER)
    bot = await restart(bot, start_bot, slack, policy_path=policy)

    e2e_clock.advance(timedelta(hours=1, minutes=1))
    await bot.engine.sweep()
    reminder = await bot_reply(slack, thread, "Reminder 1")
    assert "cannot be approved under the policy in force" in reminder["text"], reminder
    assert "please approve" not in reminder["text"], reminder

    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    told = await ephemeral(slack, "U0BOB", "counted")
    assert "1 of 2" in told["text"], told
    assert "cannot be approved under the policy in force" in told["text"], told


async def test_an_edit_counted_says_the_quorum_is_out_of_reach(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path
) -> None:
    """An edit counts as its author's approval: Bob's was answered "(1 of 2); ... the
    others must approve what the card now shows", though under the policy in force nobody
    else may approve it."""
    scale = BEFORE.replace("restart_service", "scale_service")
    policy = write_policy(tmp_path / "policy.toml", scale)
    bot, _, card, _ = await asked_under(slack, start_bot, policy, "scale api to 12")
    write_policy(policy, scale.replace("U0CAROL", "U0ALICE"))
    bot = await restart(bot, start_bot, slack, policy_path=policy)

    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=EDIT)
    await until(lambda: slack.open_views(user="U0BOB"), what="Bob's edit modal")
    await slack.submit_view(
        user="U0BOB",
        callback_id=EDIT_MODAL,
        values={"arg:service": {"value": "api"}, "arg:replicas": {"value": "6"}},
    )
    told = await ephemeral(slack, "U0BOB", "Your edit is recorded")
    assert "1 of 2" in told["text"], told
    assert "cannot be approved under the policy in force" in told["text"], told
    assert "the others must approve" not in told["text"], told
