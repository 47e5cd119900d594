"""A request asked in a group DM (an mpim: a ``G…`` conversation of a few people and
signoff) is listed, on the Home tab and by ``/signoff pending``, for the members who may
decide it, and for nobody outside it.

Who can see an mpim is Slack's ``conversations.info``/``conversations.members`` under the
``mpim:read`` scope. Without it in manifest.yml every lookup failed closed (``missing_scope``
counts as nobody in), so Bob, in the group DM and a named approver, had an empty Home while
the card waited in front of him.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import FAST
from signoff_e2e_kit import (
    CARD_TITLE,
    GROUP_DM,
    approval_id_of,
    ephemeral_texts,
    home_of,
    home_texts,
    until,
    with_group_dm,
    write_policy,
)

from localslack import LocalSlack, WorkspaceConfig

if TYPE_CHECKING:
    from conftest import BotFactory


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:  # the manifest's app, and one group DM
    async with LocalSlack(with_group_dm(WorkspaceConfig(seed=5, timing=FAST))) as server:
        yield server


async def pending_answer(slack: LocalSlack, user: str) -> str:
    before = len(ephemeral_texts(slack, user))
    await slack.slash_command(command="/signoff", user=user, channel="C0OPS", text="pending")
    (told,) = await until(lambda: ephemeral_texts(slack, user)[before:], what="the answer")
    return str(told)


async def test_a_group_dms_request_is_listed_for_its_members_only(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path
) -> None:
    policy = write_policy(
        tmp_path / "policy.toml", '[tools.restart_service]\napprovers = ["U0BOB", "U0CAROL"]\n'
    )
    await start_bot(policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    asked = await slack.post_message(
        channel=GROUP_DM, user="U0ALICE", text="<@U0SIGNOFF> restart api please"
    )
    card = await slack.wait_for_message(
        channel=GROUP_DM, thread_ts=asked, from_bot=True, text_contains=CARD_TITLE, timeout=10
    )
    approval = approval_id_of(card)

    await slack.open_app_home(user="U0BOB")
    bobs = await home_of(slack, "U0BOB", has="Waiting for you (1)")
    assert "could not check" not in home_texts(bobs)
    assert approval in await pending_answer(slack, "U0BOB")

    # Carol may approve restarts, but cannot read this conversation: it is not hers to see.
    await slack.open_app_home(user="U0CAROL")
    carols = await home_of(slack, "U0CAROL", has="Nothing waits for your decision.")
    assert approval not in home_texts(carols)
    assert approval not in await pending_answer(slack, "U0CAROL")
