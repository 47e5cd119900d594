"""Governance through the real Bolt app where the card, the Home tab and the audit must
agree with what an approval stands for: the edited call, the quorum in force, the seal.

LocalSlack runs the app as manifest.yml declares it (the Home tab included); what the
bot did is read from Slack and from its disk, and the audit through the real CLI.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import FAST, restart
from signoff_e2e_kit import (
    OPS,
    approval_id_of,
    as_in_manifest,
    bot_reply,
    capsule,
    ephemeral,
    existing_message,
    home_texts,
    mention,
    scales,
    session_path,
    until,
    wait_card,
    write_policy,
)

from bot.app import SignoffBot
from bot.card_governance import EDIT
from bot.cards import APPROVE
from bot.cli import main
from bot.config import Settings
from bot.edit_modal import EDIT_MODAL
from localslack import LocalSlack, WorkspaceConfig

if TYPE_CHECKING:
    from conftest import BotFactory


TWO_OF_TWO = '[tools.scale_service]\napprovers = ["U0BOB", "U0CAROL"]\nquorum = 2\n'
THREE = '[tools.scale_service]\napprovers = ["U0BOB", "U0CAROL", "U0DAVE"]\nquorum = {}\n'


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    async with LocalSlack(as_in_manifest(WorkspaceConfig(seed=11, timing=FAST))) as server:
        yield server


def card_text(slack: LocalSlack, ts: str) -> str:
    return json.dumps(existing_message(slack, channel=OPS, ts=ts)["blocks"], ensure_ascii=False)


async def edit_to(slack: LocalSlack, card: dict[str, Any], user: str, replicas: int) -> None:
    await slack.click_button(channel=OPS, ts=card["ts"], user=user, action_id=EDIT)
    await until(lambda: slack.open_views(user=user), what=f"{user}'s edit modal")
    await slack.submit_view(
        user=user,
        callback_id=EDIT_MODAL,
        values={"arg:service": {"value": "api"}, "arg:replicas": {"value": str(replicas)}},
    )


def waiting_section(view: dict[str, Any]) -> str:
    """The text of the "Waiting for you" part of a Home view (up to its first divider)."""
    blocks: list[dict[str, Any]] = []
    for block in view["blocks"]:
        if block.get("type") == "divider":
            break
        blocks.append(block)
    return home_texts({"blocks": blocks})


async def test_the_home_tab_shows_the_edited_arguments_its_approve_button_approves(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    policy = write_policy(tmp_path / "policy.toml", TWO_OF_TWO)
    bot: SignoffBot = await start_bot(policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "scale api to 12")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    # Bob approves 12 replicas; Carol edits them to 6, which lapses Bob's approval.
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await ephemeral(slack, "U0BOB", "Your approval is counted: 1 of 2")
    await edit_to(slack, card, "U0CAROL", 6)
    await ephemeral(slack, "U0CAROL", "Your edit is recorded")
    await until(lambda: "replicas: 12 → 6" in card_text(slack, card["ts"]), what="the edit")
    bot = await restart(bot, start_bot, slack, policy_path=policy)

    # Bob's Home asks him again, with an Approve button for the edited call (hash of 6)...
    await slack.open_app_home(user="U0BOB")
    view = await slack.wait_for_home_view(
        lambda v: "Waiting for you (1)" in home_texts(v), user="U0BOB", timeout=10
    )
    (actions,) = [b for b in view["blocks"] if b.get("type") == "actions"]
    edited = bot.engine.current_hash(approval)
    assert actions["block_id"].endswith(f"-h{edited[:12]}")
    # ...so the call it shows must be the edited one, not the 12 replicas he approved.
    waiting = waiting_section(view)
    assert "replicas=6" in waiting, waiting
    assert "replicas=12" not in waiting, waiting

    # Alice's own open request shows the call as it now stands, too.
    await slack.open_app_home(user="U0ALICE")
    mine = await slack.wait_for_home_view(
        lambda v: "replicas=6" in home_texts(v), user="U0ALICE", timeout=10
    )
    assert "replicas=12" not in home_texts(mine)

    await slack.click_view_button(user="U0BOB", action_id=APPROVE, value=approval)
    await bot_reply(slack, thread, "scale_service` finished")
    await bot.engine.idle()
    (ran,) = scales(settings.home)
    assert ran["replicas"] == 6
    # And "Recently decided" names the call that was decided and ran.
    await slack.open_app_home(user="U0BOB")
    decided = await slack.wait_for_home_view(
        lambda v: "Recently decided" in home_texts(v) and "Waiting for you (0)" in home_texts(v),
        user="U0BOB",
        timeout=10,
    )
    assert "replicas=6" in home_texts(decided) and "replicas=12" not in home_texts(decided)


async def test_the_card_counts_votes_against_the_quorum_in_force(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    policy = write_policy(tmp_path / "policy.toml", THREE.format(2))
    bot: SignoffBot = await start_bot(policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "scale api to 12")
    card = await wait_card(slack, thread)
    # The policy is tightened while the request waits: it now takes three approvals.
    write_policy(policy, THREE.format(3))
    bot = await restart(bot, start_bot, slack, policy_path=policy)

    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await ephemeral(slack, "U0BOB", "Your approval is counted: 1 of 3")
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0CAROL", action_id=APPROVE)
    await ephemeral(slack, "U0CAROL", "Your approval is counted: 2 of 3")
    await until(
        lambda: "<@U0BOB>, <@U0CAROL>" in card_text(slack, card["ts"]), what="both votes shown"
    )
    await bot.engine.idle()
    shown = card_text(slack, card["ts"])
    # Still open, with buttons: the card must not say the approvals it needs are all in.
    assert '"type": "actions"' in shown and scales(settings.home) == []
    assert "2 of 2 approvals" not in shown, shown
    assert "2 of 3 approvals: <@U0BOB>, <@U0CAROL>" in shown, shown
    assert "(3 needed)" in shown, shown


def audit(home: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> tuple[int, list[Any]]:
    monkeypatch.setenv("SIGNOFF_HOME", str(home))
    for name in ("SIGNOFF_POLICY", "SIGNOFF_CONFIG", "SIGNOFF_MODEL"):
        monkeypatch.delenv(name, raising=False)
    capsys.readouterr()
    code = main(["audit"])
    return code, [json.loads(line) for line in capsys.readouterr().out.splitlines()]


async def test_the_audit_flags_a_decided_approval_whose_seal_was_removed(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    bot: SignoffBot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    home = settings.home
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await bot_reply(slack, thread, "restart_service` finished")
    await bot.engine.idle()
    code, records = audit(home, monkeypatch, capsys)
    assert code == 0 and [r["seal"] for r in records] == ["ok"]

    # Someone rewrites who asked (the capsule's hash covers only the call) and removes
    # the seal that would have shown it: execution refuses such a session ("no seal").
    asked = capsule(home, approval)
    path = session_path(home, asked["session_id"]) / "approvals" / f"{approval}.json"
    asked.update(requester="U0DAVE", requesters=["U0DAVE"])
    path.write_text(json.dumps(asked, indent=2))
    (session_path(home, asked["session_id"]) / "MANIFEST.sha256").unlink()
    code, records = audit(home, monkeypatch, capsys)
    (record,) = records
    assert record["requester"] == "U0DAVE" and record["status"] == "approved"
    assert record["seal"] != "ok"
    assert code == 1, record  # a decided approval's session always ended sealed
