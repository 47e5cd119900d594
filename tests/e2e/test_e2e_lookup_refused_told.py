"""What a person is told when Slack refuses signoff a lookup, through the wire.

A lookup Slack gives no answer to (a dropped connection) may answer the next time:
"… just now; try again in a moment" helps. One Slack refuses the app itself (a scope the
install lacks, a revoked token: ``membership.NOT_ASKED``) will be refused again however
often the person tries: they are told Slack refused signoff the lookup, naming Slack's
answer, and to tell whoever runs signoff, who can fix it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import FAST
from signoff_e2e_kit import (
    OPS,
    as_in_manifest,
    asked_under,
    ephemeral,
    home_texts,
    write_policy,
)

from bot.cards import APPROVE
from localslack import LocalSlack, WorkspaceConfig

if TYPE_CHECKING:
    from conftest import BotFactory

GROUP_POLICY = '[tools.restart_service]\napprovers = ["S0APPROVERS"]\n'
BOB_ONLY = '[tools.restart_service]\napprovers = ["U0BOB"]\n'
ANYONE = '[default]\napprovers = ["anyone"]\n'
COULD_NOT = "signoff could not check with Slack"
AGAIN = "again in a moment"
FAULTS = ["drop_connection", "missing_scope"]


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    async with LocalSlack(as_in_manifest(WorkspaceConfig(seed=11, timing=FAST))) as server:
        yield server


def _fail(slack: LocalSlack, method: str, fault: str) -> None:
    if fault == "drop_connection":
        slack.inject_fault(method=method, count=None, drop_connection=True)
    else:
        slack.inject_fault(method=method, count=None, error=fault)


def _says_what_helps(text: str, fault: str) -> None:
    assert COULD_NOT in text, text
    if fault == "drop_connection":
        assert AGAIN in text, text
    else:
        assert f"Slack refused signoff the lookup ({fault})" in text, text
        assert "tell whoever runs signoff" in text, text
        assert AGAIN not in text, text


async def _pending(slack: LocalSlack, user: str, contains: str = COULD_NOT) -> str:
    await slack.slash_command(command="/signoff", user=user, channel=OPS, text="pending")
    return str((await ephemeral(slack, user, contains))["text"])


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_click_told_its_group_could_not_be_checked(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path, fault: str
) -> None:
    policy = write_policy(tmp_path / "policy.toml", GROUP_POLICY)
    bot, _thread, card, _approval = await asked_under(slack, start_bot, policy, "restart api")
    await bot.engine.idle()
    _fail(slack, "usergroups.users.list", fault)
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    _says_what_helps(str((await ephemeral(slack, "U0BOB", COULD_NOT))["text"]), fault)


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize(
    ("policy_text", "method"),
    [(GROUP_POLICY, "usergroups.users.list"), (ANYONE, "users.info")],
    ids=["group", "organization"],
)
async def test_pending_and_the_home_told_what_could_not_be_checked(
    slack: LocalSlack,
    start_bot: BotFactory,
    tmp_path: Path,
    fault: str,
    policy_text: str,
    method: str,
) -> None:
    """Who is in the rule's group, or (under ``anyone``) which organization Bob is in."""
    policy = write_policy(tmp_path / "policy.toml", policy_text)
    bot, _thread, _card, _approval = await asked_under(slack, start_bot, policy, "restart api")
    await bot.engine.idle()
    _fail(slack, method, fault)
    _says_what_helps(await _pending(slack, "U0BOB"), fault)
    await slack.open_app_home(user="U0BOB")
    view = await slack.wait_for_home_view(
        lambda v: COULD_NOT in home_texts(v), user="U0BOB", timeout=10
    )
    _says_what_helps(home_texts(view), fault)


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_click_and_pending_told_the_channel_could_not_be_checked(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path, fault: str
) -> None:
    policy = write_policy(tmp_path / "policy.toml", BOB_ONLY)
    first, _thread, card, _approval = await asked_under(slack, start_bot, policy, "restart api")
    # A new process: nothing it learnt of the channel before is cached.
    await first.stop(grace=5)
    await start_bot(policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    for method in ("conversations.info", "conversations.members"):
        _fail(slack, method, fault)
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    click = await ephemeral(slack, "U0BOB", "whether you can see this request's channel")
    _says_what_helps(str(click["text"]), fault)
    _says_what_helps(await _pending(slack, "U0BOB", "which channels you can see"), fault)
