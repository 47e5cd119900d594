"""A Home tab click in Slack's reference shape from an Enterprise Grid workspace: the
``view`` carries every field the reference shows (``title``, ``close``/``submit`` null,
``previous_view_id`` null, ``root_view_id``, ``app_installed_team_id``, ``bot_id``), and
the payload names the enterprise (``enterprise``, ``team.enterprise_id``,
``is_enterprise_install``). An approver's click in that shape decides exactly as a click
LocalSlack builds; the same shape from someone who may not decide is refused on the Home."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import FAST
from signoff_e2e_kit import (
    approval_id_of,
    as_in_manifest,
    decision,
    home_of,
    home_texts,
    mention,
    restarts,
    until,
    wait_card,
    write_policy,
)

from bot.cards import APPROVE
from bot.config import Settings
from localslack import LocalSlack, WorkspaceConfig

if TYPE_CHECKING:
    from conftest import BotFactory

T = "T0LOCAL"
BOB_ONLY = '[tools.restart_service]\napprovers = ["U0BOB"]\n'


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    async with LocalSlack(as_in_manifest(WorkspaceConfig(seed=17, timing=FAST))) as server:
        yield server


def grid_home_click(user: str, home: dict[str, Any], approval: str) -> dict[str, Any]:
    """``block_actions`` from a Home tab as docs.slack.dev/reference/interaction-payloads
    shows it, in a Grid workspace."""
    (block_id,) = [
        b["block_id"]
        for b in home["blocks"]
        if b.get("type") == "actions"
        and any(e.get("value") == approval for e in b.get("elements", []))
    ]
    view = {
        "id": home["id"],
        "team_id": T,
        "type": "home",
        "blocks": home["blocks"],
        "private_metadata": home.get("private_metadata", ""),
        "callback_id": home.get("callback_id", ""),
        "state": {"values": {}},
        "hash": home.get("hash", "1700000000.AbCdEf12"),
        "title": {"type": "plain_text", "text": "View Title", "emoji": True},
        "clear_on_close": False,
        "notify_on_close": False,
        "close": None,
        "submit": None,
        "previous_view_id": None,
        "root_view_id": home["id"],
        "app_id": "A0SIGNOFF",
        "external_id": "",
        "app_installed_team_id": T,
        "bot_id": "B0SIGNOFF",
    }
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": T},
        "api_app_id": "A0SIGNOFF",
        "token": "legacy",
        "container": {"type": "view", "view_id": home["id"]},
        "trigger_id": "1111.2222.grid",
        "team": {
            "id": T,
            "domain": "localslack",
            "enterprise_id": "E0GRID",
            "enterprise_name": "Grid Inc",
        },
        "enterprise": {"id": "E0GRID", "name": "Grid Inc"},
        "is_enterprise_install": False,
        "view": view,
        "actions": [
            {
                "action_id": APPROVE,
                "block_id": block_id,
                "text": {"type": "plain_text", "text": "Approve", "emoji": True},
                "value": approval,
                "style": "primary",
                "type": "button",
                "action_ts": "1700000001.000100",
            }
        ],
    }


async def test_a_grid_home_click_in_the_reference_shape_decides_like_the_card(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    await start_bot(policy_path=write_policy(tmp_path / "policy.toml", BOB_ONLY))
    await slack.wait_for_sockets(1, timeout=5)
    for user in ("U0BOB", "U0CAROL"):
        await slack.open_app_home(user=user)
        await home_of(slack, user, has="Waiting for you (0)")
    thread = await mention(slack, "restart api")
    approval = approval_id_of(await wait_card(slack, thread))
    bobs = await home_of(slack, "U0BOB", has="Waiting for you (1)")

    # Carol may not decide (the policy names Bob): her forged click, shaped as Bob's
    # Home would send it, is refused on her Home, and nothing is decided.
    forged = grid_home_click("U0CAROL", bobs, approval)
    carols = slack.home_view(user="U0CAROL")
    assert carols is not None
    forged["container"]["view_id"] = forged["view"]["id"] = carols["id"]
    sent = await slack.send_envelope(type="interactive", payload=forged)
    done = await slack.wait_for_ack(sent.envelope_id, timeout=3)
    assert not done.timed_out and not done.user_saw_error
    told = home_texts(await home_of(slack, "U0CAROL", has="ℹ️"))
    assert "you are not an approver for this tool" in told, told
    assert decision(settings.home, approval) is None

    sent = await slack.send_envelope(
        type="interactive", payload=grid_home_click("U0BOB", bobs, approval)
    )
    done = await slack.wait_for_ack(sent.envelope_id, timeout=3)
    assert not done.timed_out and not done.user_saw_error
    found = await until(lambda: decision(settings.home, approval), what="Bob's approval")
    assert found["verdict"] == "approved" and found["deciders"] == ["U0BOB"]
    await until(lambda: restarts(settings.home) == 1, what="the restart")
    shown = home_texts(await home_of(slack, "U0BOB", has="Waiting for you (0)"))
    assert "✅ approved by <@U0BOB>" in shown
