"""What a Slack Connect guest is shown as waiting for them is what their click may decide.

#ops is shared with a guest from another organization (their ``team_id`` is their own).
Under an ``anyone`` rule their click is refused ("anyone" is anyone of the installation's
organization), so neither ``/signoff pending`` nor their Home tab may list such a request
as waiting for their decision, with buttons that would only refuse them. A Home or a
command names no team of the person: it is asked of ``users.info``, as for a stop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import FAST
from signoff_e2e_kit import (
    OPS,
    approval_id_of,
    as_in_manifest,
    home_buttons,
    home_of,
    home_texts,
    mention,
    until,
    wait_card,
    with_guest_in_ops,
    write_policy,
)

from localslack import LocalSlack, WorkspaceConfig
from localslack.config import UserSpec

if TYPE_CHECKING:
    from conftest import BotFactory

GUEST = UserSpec(id="U0GUEST", name="gina", team_id="T0PARTNER")
ANYONE = '[default]\napprovers = ["anyone"]\n'


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    """The suite's workspace, its #ops shared with a guest from another organization."""
    base = as_in_manifest(WorkspaceConfig(seed=7, timing=FAST))  # with its Home tab
    async with LocalSlack(with_guest_in_ops(base, GUEST)) as server:
        yield server


async def _pending(slack: LocalSlack, user: str) -> str:
    before = len(slack.ephemeral_messages(user=user))
    await slack.slash_command(command="/signoff", user=user, channel=OPS, text="pending")
    new = await until(lambda: slack.ephemeral_messages(user=user)[before:], what="the answer")
    return str(new[0].get("text", ""))


async def test_an_anyone_request_is_not_listed_as_waiting_for_a_guest(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path
) -> None:
    await start_bot(policy_path=write_policy(tmp_path / "policy.toml", ANYONE))
    await slack.wait_for_sockets(1, timeout=5)
    approval = approval_id_of(await wait_card(slack, await mention(slack, "restart api")))

    assert approval in await _pending(slack, "U0BOB")  # anyone of signoff's organization
    assert await _pending(slack, GUEST.id) == "Nothing is waiting for your decision."

    await slack.open_app_home(user="U0BOB")
    bobs = await home_of(slack, "U0BOB", has="Waiting for you (1)")
    assert any(value == approval for _, value in home_buttons(bobs))
    await slack.open_app_home(user=GUEST.id)
    guests = await home_of(slack, GUEST.id, has="Nothing waits for your decision.")
    assert not any(value == approval for _, value in home_buttons(guests))


async def test_a_guest_the_policy_names_still_sees_what_waits_for_them(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path
) -> None:
    named = f'[default]\napprovers = ["U0BOB", "{GUEST.id}"]\n'
    await start_bot(policy_path=write_policy(tmp_path / "policy.toml", named))
    await slack.wait_for_sockets(1, timeout=5)
    approval = approval_id_of(await wait_card(slack, await mention(slack, "restart api")))

    assert approval in await _pending(slack, GUEST.id)
    await slack.open_app_home(user=GUEST.id)
    guests = await home_of(slack, GUEST.id, has="Waiting for you (1)")
    assert any(value == approval for _, value in home_buttons(guests))


COULD_NOT = "signoff could not check with Slack"


async def test_without_users_info_a_named_approver_is_listed_as_usual(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path
) -> None:
    """Slack does not say which organization Bob is in, but the rule names him: his click
    would decide wherever he comes from, so his list and his Home show the request, and
    say nothing of a check that changed nothing."""
    named = '[default]\napprovers = ["U0BOB"]\n'
    await start_bot(policy_path=write_policy(tmp_path / "policy.toml", named))
    await slack.wait_for_sockets(1, timeout=5)
    approval = approval_id_of(await wait_card(slack, await mention(slack, "restart api")))
    slack.inject_fault(method="users.info", count=None, drop_connection=True)

    told = await _pending(slack, "U0BOB")
    assert approval in told and COULD_NOT not in told, told
    await slack.open_app_home(user="U0BOB")
    bobs = await home_of(slack, "U0BOB", has="Waiting for you (1)")
    assert any(value == approval for _, value in home_buttons(bobs))
    assert COULD_NOT not in home_texts(bobs)
    assert slack.calls("users.info")  # asked, and it failed


async def test_without_users_info_an_anyone_request_is_left_out_and_said(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path
) -> None:
    """Under an ``anyone`` rule the organization decides: unknown, the request is not
    listed (fail closed), and both the list and the Home say why."""
    await start_bot(policy_path=write_policy(tmp_path / "policy.toml", ANYONE))
    await slack.wait_for_sockets(1, timeout=5)
    approval = approval_id_of(await wait_card(slack, await mention(slack, "restart api")))
    slack.inject_fault(method="users.info", count=None, drop_connection=True)

    told = await _pending(slack, "U0BOB")
    assert approval not in told and "which organization you are in" in told, told
    await slack.open_app_home(user="U0BOB")
    bobs = await home_of(slack, "U0BOB", has=COULD_NOT)
    assert not any(value == approval for _, value in home_buttons(bobs))
