"""A card and the Home tab count only the approvals that still count once the sweep found
an approver no longer allowed.

Asked under a quorum of 2, Bob and Carol approved while the policy asked for 3 (no
approval completed anything, so nobody was asked again); Bob left the approver group and the policy
went back to 2. The timer sweep rightly declined to approve the call on Bob's vote, but
wrote nothing: the card and Carol's Home still said "2 of 2 approvals" (Bob's vote
counting) until someone clicked. Now the sweep records the discount as a click's vote
does (a record by signoff naming Bob's approval), so the card, the Home and the audit
export all count one of two.
"""

from __future__ import annotations

import json
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
    decision,
    existing_message,
    home_of,
    mention,
    until,
    wait_card,
    write_policy,
)

from agent_core.audit import audit_records
from bot.cards import APPROVE
from bot.config import Settings
from localslack import LocalSlack, WorkspaceConfig
from sessions import FixedClock, Home

if TYPE_CHECKING:
    from conftest import BotFactory

GROUP = "S0APPROVERS"


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    async with LocalSlack(as_in_manifest(WorkspaceConfig(seed=17, timing=FAST))) as server:
        yield server


def _policy(path: Path, quorum: int) -> Path:
    return write_policy(
        path,
        f'[tools.restart_service]\napprovers = ["{GROUP}"]\nquorum = {quorum}\n'
        'remind_after = "10m"\n',
    )


async def test_the_sweep_that_discounts_an_approver_shows_it_on_the_card_and_home(
    slack: LocalSlack,
    start_bot: BotFactory,
    tmp_path: Path,
    settings: Settings,
    e2e_clock: FixedClock,
) -> None:
    await slack.update_group_members(group=GROUP, users=["U0BOB", "U0CAROL", "U0DAVE"])
    two = _policy(tmp_path / "two.toml", 2)
    bot = await start_bot(policy_path=two)
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    bot = await restart(bot, start_bot, slack, policy_path=_policy(tmp_path / "three.toml", 3))

    def card_text() -> str:
        return json.dumps(existing_message(slack, channel=OPS, ts=card["ts"]))

    for user in ("U0BOB", "U0CAROL"):
        await slack.click_button(channel=OPS, ts=card["ts"], user=user, action_id=APPROVE)
    await until(lambda: "2 of 3 approvals" in card_text(), what="two votes on the card")

    await slack.update_group_members(group=GROUP, users=["U0CAROL", "U0DAVE"])
    bot = await restart(bot, start_bot, slack, policy_path=two)
    await slack.open_app_home(user="U0CAROL")
    e2e_clock.advance(timedelta(minutes=11))  # a reminder is due: the sweep looks
    await bot.engine.sweep()
    await bot.engine.idle()
    assert decision(settings.home, approval) is None

    await until(lambda: "1 of 2 approvals" in card_text(), what="the card counting Carol only")
    assert "2 of 2" not in card_text()
    await home_of(slack, "U0CAROL", has="1 of 2 approvals", lacks="2 of 2")

    (record,) = audit_records(Home(settings.home), since="", now=e2e_clock.now())
    assert any("U0BOB" in vote.discounted for vote in record.votes), record.votes
    assert record.seal == "ok" and not record.problems, record
