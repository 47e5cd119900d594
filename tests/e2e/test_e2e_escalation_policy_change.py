"""An escalation is judged by the policy in force too, not only by the rule captured when
the request was asked.

Asked under a rule that escalates to Carol after 5h; before that, the operator removes
Carol from ``escalate_to`` (she left the on-call rota) and restarts the bot. Every other
part of the rule is "both rules must allow the clicker", so a tightened policy applies to
requests already waiting; the escalation, timed and targeted by the captured rule alone,
still added Carol and pinged her, and authorization counted whoever an escalation added,
so her approval ran the call. Now an escalation adds only whom both rules escalate to, and
an added approver counts only while the rule in force still escalates to them.
"""

from __future__ import annotations

import json
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from conftest import restart
from signoff_e2e_kit import (
    OPS,
    asked_under,
    bot_messages,
    decision,
    ephemeral,
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

TO_CAROL = """
[tools.restart_service]
approvers = ["U0BOB"]
escalate_after = "5h"
escalate_to = ["U0CAROL"]
expires_after = "2d"
"""
TO_DAVE = TO_CAROL.replace("U0CAROL", "U0DAVE")


def _blocks(slack: LocalSlack, ts: str) -> str:
    return json.dumps(existing_message(slack, channel=OPS, ts=ts)["blocks"], ensure_ascii=False)


async def test_an_escalation_target_the_policy_dropped_is_not_added_and_may_not_approve(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    e2e_clock: FixedClock,
    tmp_path: Path,
) -> None:
    policy = write_policy(tmp_path / "policy.toml", TO_CAROL)
    bot, thread, card, approval = await asked_under(slack, start_bot, policy, "restart api")
    write_policy(policy, TO_DAVE)  # Carol left the rota; Dave joined it
    down_6h = partial(e2e_clock.advance, timedelta(hours=6))
    bot = await restart(bot, start_bot, slack, policy_path=policy, while_down=down_6h)
    await bot.engine.sweep()
    await bot.engine.idle()
    assert not [m for m in bot_messages(slack, thread, "escalated to") if "U0CAROL" in m["text"]]

    await slack.click_button(channel=OPS, ts=card["ts"], user="U0CAROL", action_id=APPROVE)
    await ephemeral(slack, "U0CAROL", "not an approver")
    await bot.engine.idle()
    assert decision(settings.home, approval) is None
    assert restarts(settings.home) == 0


async def test_an_approver_added_by_escalation_may_not_approve_once_the_policy_drops_them(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    e2e_clock: FixedClock,
    tmp_path: Path,
) -> None:
    policy = write_policy(tmp_path / "policy.toml", TO_CAROL)
    bot, thread, card, approval = await asked_under(slack, start_bot, policy, "restart api")
    e2e_clock.advance(timedelta(hours=6))
    await bot.engine.sweep()
    await bot.engine.idle()
    assert [m for m in bot_messages(slack, thread, "escalated to") if "U0CAROL" in m["text"]]

    write_policy(policy, TO_DAVE)  # then Carol leaves the rota
    bot = await restart(bot, start_bot, slack, policy_path=policy)
    # The card, shown again under the new rules, no longer says she may decide it.
    await until(
        lambda: "no longer escalates" in _blocks(slack, card["ts"]),
        what="the card to say Carol is off the rota",
    )
    assert "they may decide it too" not in _blocks(slack, card["ts"])
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0CAROL", action_id=APPROVE)
    await ephemeral(slack, "U0CAROL", "not an approver")
    await bot.engine.idle()
    assert decision(settings.home, approval) is None
    assert restarts(settings.home) == 0
