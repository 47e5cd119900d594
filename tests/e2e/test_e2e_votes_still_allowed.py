"""A quorum is completed only by approvers the rules still allow.

Bob approved (1 of 2), then left the approver group; Carol's approval completed the
quorum with his vote in it, and the call ran on one approver's word the rules allowed.
Now the approval that would complete a quorum checks the earlier ones again: a vote whose
voter may no longer decide is named in the new vote as not counting, and everything that
counts approvals (the card, the sweep after a crash, the Home tab) leaves it out.
(Found by a helper probing "approve exactly what you saw".)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from conftest import FAST
from signoff_e2e_kit import (
    approval_id_of,
    as_in_manifest,
    decision,
    ephemeral,
    ephemeral_texts,
    mention,
    until,
    wait_card,
    write_policy,
)

from bot.cards import APPROVE
from bot.config import Settings
from localslack import LocalSlack, WorkspaceConfig

GROUP = "S0APPROVERS"


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    async with LocalSlack(as_in_manifest(WorkspaceConfig(seed=13, timing=FAST))) as server:
        yield server


def _votes(home: Path, approval: str) -> list[Path]:
    return list(home.glob(f"sessions/**/approvals/{approval}.votes/*.json"))


async def test_a_vote_of_someone_who_left_the_approver_group_does_not_complete_a_quorum(
    slack: LocalSlack, start_bot: Any, tmp_path: Path, settings: Settings
) -> None:
    await slack.update_group_members(group=GROUP, users=["U0DAVE", "U0BOB", "U0CAROL"])
    policy = write_policy(
        tmp_path / "policy.toml",
        f'[tools.restart_service]\napprovers = ["{GROUP}"]\nquorum = 2\n',
    )
    bot = await start_bot(policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    await slack.click_button(channel="C0OPS", ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await until(lambda: len(_votes(settings.home, approval)) == 1, what="Bob's vote")
    await slack.update_group_members(group=GROUP, users=["U0DAVE", "U0CAROL"])
    await bot.engine.idle()

    await slack.click_button(channel="C0OPS", ts=card["ts"], user="U0CAROL", action_id=APPROVE)
    await ephemeral(slack, "U0CAROL", "counted: 1 of 2")
    await until(lambda: len(_votes(settings.home, approval)) == 2, what="Carol's vote")
    await bot.engine.idle()
    assert decision(settings.home, approval) is None

    await slack.click_button(channel="C0OPS", ts=card["ts"], user="U0DAVE", action_id=APPROVE)
    await until(lambda: decision(settings.home, approval) is not None, what="the decision")
    decided = decision(settings.home, approval)
    assert decided is not None and decided["verdict"] == "approved"
    assert decided["deciders"] == ["U0CAROL", "U0DAVE"]


async def test_an_approver_whose_vote_was_discounted_may_approve_again_once_back(
    slack: LocalSlack, start_bot: Any, tmp_path: Path, settings: Settings
) -> None:
    """Bob approved, left the group, and Carol's approval discounted his vote; back in the
    group, his click said "You already approved this request" and the request waited for
    a third approver. A discounted vote counts for nothing, so he may give a new one."""
    await slack.update_group_members(group=GROUP, users=["U0BOB", "U0CAROL"])
    policy = write_policy(
        tmp_path / "policy.toml",
        f'[tools.restart_service]\napprovers = ["{GROUP}"]\nquorum = 2\n',
    )
    bot = await start_bot(policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    await slack.click_button(channel="C0OPS", ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await until(lambda: len(_votes(settings.home, approval)) == 1, what="Bob's vote")
    await slack.update_group_members(group=GROUP, users=["U0CAROL"])
    await bot.engine.idle()
    await slack.click_button(channel="C0OPS", ts=card["ts"], user="U0CAROL", action_id=APPROVE)
    await ephemeral(slack, "U0CAROL", "counted: 1 of 2")
    await bot.engine.idle()

    await slack.update_group_members(group=GROUP, users=["U0BOB", "U0CAROL"])
    told = len(ephemeral_texts(slack, "U0BOB"))
    await slack.click_button(channel="C0OPS", ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await until(
        lambda: ephemeral_texts(slack, "U0BOB")[told:] or decision(settings.home, approval),
        what="Bob's answer",
    )
    assert not ephemeral_texts(slack, "U0BOB")[told:]  # "You already approved this request"
    decided = decision(settings.home, approval)
    assert decided is not None and decided["verdict"] == "approved"
    assert sorted(decided["deciders"]) == ["U0BOB", "U0CAROL"]  # once each
