"""Edit & approve through Slack: the modal, validation in place, the edited call run once.

Each test drives the real Bolt app against localslack and reads the outcome from Slack
and from the bot's disk. The second restarts the bot between every step, with a modal
left open across a restart: everything the new bot knows comes from disk.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conftest import restart
from signoff_e2e_kit import (
    OPS,
    approval_id_of,
    asked_under,
    bot_reply,
    cards,
    decision,
    ephemeral,
    existing_decision,
    existing_message,
    has_buttons,
    mention,
    outcome_text,
    scales,
    stale_click,
    until,
    wait_card,
    write_policy,
)

from approvals import args_sha256
from bot.app import SignoffBot
from bot.card_governance import EDIT
from bot.cards import APPROVE
from bot.config import Settings
from bot.edit_modal import EDIT_MODAL
from localslack import LocalSlack

if TYPE_CHECKING:
    from conftest import BotFactory


TWO_APPROVERS = '[tools.scale_service]\napprovers = ["U0BOB", "U0CAROL"]\n'


def block_text(message: dict[str, Any]) -> str:
    return json.dumps(message["blocks"], ensure_ascii=False)


async def open_edit_modal(slack: LocalSlack, card: dict[str, Any], user: str) -> dict[str, Any]:
    await slack.click_button(channel=OPS, ts=card["ts"], user=user, action_id=EDIT)
    views: list[dict[str, Any]] = await until(
        lambda: slack.open_views(user=user), what=f"{user}'s edit modal"
    )
    (modal,) = views
    assert modal["callback_id"] == EDIT_MODAL
    return modal


def inputs(modal: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in modal["blocks"] if b["type"] == "input"}


async def test_an_approver_edits_invalid_values_are_shown_in_place_and_the_edit_runs_once(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    policy = write_policy(tmp_path / "policy.toml", TWO_APPROVERS)
    bot, thread, card, approval = await asked_under(slack, start_bot, policy, "scale api to 12")
    home = settings.home
    asked = args_sha256("scale_service", {"service": "api", "replicas": 12})
    assert [e["action_id"] for e in card["blocks"][-1]["elements"]] == [
        "signoff_approve",
        EDIT,
        "signoff_deny",
    ]

    # The requester may not edit (editing approves): refused, and no modal opens.
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0ALICE", action_id=EDIT)
    told = await ephemeral(slack, "U0ALICE", "You may not edit this request")
    assert "someone else must decide" in told["text"]
    assert not slack.open_views(user="U0ALICE")

    modal = await open_edit_modal(slack, card, "U0BOB")
    fields = inputs(modal)
    assert list(fields) == ["arg:service", "arg:replicas", "reason"]
    assert fields["arg:service"]["element"]["initial_value"] == "api"
    replicas = fields["arg:replicas"]["element"]
    assert replicas["type"] == "number_input" and replicas["initial_value"] == "12"
    assert modal["private_metadata"] == approval

    # Out of the schema's range: the modal stays open with the problem on its field.
    await slack.submit_view(
        user="U0BOB",
        callback_id=EDIT_MODAL,
        values={"arg:service": {"value": "api"}, "arg:replicas": {"value": "500"}},
    )
    (still,) = await until(
        lambda: [v for v in slack.open_views(user="U0BOB") if v["errors"]], what="field errors"
    )
    assert set(still["errors"]) == {"arg:replicas"} and "100" in still["errors"]["arg:replicas"]
    await bot.engine.idle()
    assert decision(home, approval) is None and scales(home) == []

    await slack.submit_view(
        user="U0BOB",
        callback_id=EDIT_MODAL,
        values={
            "arg:service": {"value": "api"},
            "arg:replicas": {"value": "8"},
            "reason": {"reason": "12 would starve the db"},
        },
    )
    reply = await bot_reply(slack, thread, "scale_service` finished")
    await bot.engine.idle()
    # The edited call ran once, with the edited arguments, keyed by the approval id.
    (ran,) = scales(home)
    assert ran["key"] == approval and ran["replicas"] == 8 and ran["service"] == "api"
    made = existing_decision(home, approval)
    edited = args_sha256("scale_service", {"service": "api", "replicas": 8})
    assert made["verdict"] == "approved" and made["deciders"] == ["U0BOB"]
    assert made["args_sha256"] == edited and made["original_sha256"] == asked
    assert made["edit"] == 1 and made["reason"] == "12 would starve the db"
    # The card shows the difference, the edited hash beside the asked one, and the reason.
    locked = existing_message(slack, channel=OPS, ts=card["ts"])
    assert not has_buttons(locked)
    shown = block_text(locked)
    assert "Edited" in shown and "replicas: 12 → 8" in shown
    assert edited[:12] in shown and asked[:12] in shown
    assert "12 would starve the db" in outcome_text(locked)
    # The model was told the call ran with changed arguments, and which, and why.
    told_model = await bot_reply(slack, thread, "replicas: 12 → 8")
    assert "changed by <@U0BOB>" in told_model["text"]
    assert "12 would starve the db" in told_model["text"]
    assert reply["thread_ts"] == thread
    assert len(cards(slack, thread)) == 1


async def test_an_edit_resets_the_quorum_with_a_restart_between_every_step(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    policy = write_policy(
        tmp_path / "policy.toml", TWO_APPROVERS + 'quorum = 2\nexpires_after = "7d"\n'
    )
    bot: SignoffBot = await start_bot(policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    home = settings.home
    thread = await mention(slack, "scale api to 12")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    bot = await restart(bot, start_bot, slack, policy_path=policy)

    # Bob approves the call as asked: 1 of 2.
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await ephemeral(slack, "U0BOB", "Your approval is counted: 1 of 2")
    await until(
        lambda: (
            "1 of 2 approvals" in block_text(existing_message(slack, channel=OPS, ts=card["ts"]))
        )
    )
    before_edit = existing_message(slack, channel=OPS, ts=card["ts"])["blocks"]
    bot = await restart(bot, start_bot, slack, policy_path=policy)

    # Carol opens the edit form; the bot restarts while it is open.
    await open_edit_modal(slack, card, "U0CAROL")
    bot = await restart(bot, start_bot, slack, policy_path=policy)

    await slack.submit_view(
        user="U0CAROL",
        callback_id=EDIT_MODAL,
        values={"arg:service": {"value": "api"}, "arg:replicas": {"value": "6"}},
    )
    told = await ephemeral(slack, "U0CAROL", "Your edit is recorded")
    assert "(1 of 2)" in told["text"] and "earlier approvals no longer count" in told["text"]
    edited_card = await until(
        lambda: (
            (m := slack.message(channel=OPS, ts=card["ts"])) and "Edited" in block_text(m) and m
        ),
        what="the card showing the edit",
    )
    shown = block_text(edited_card)
    assert "replicas: 12 → 6" in shown and "1 of 2 approvals: <@U0CAROL>" in shown
    assert "<@U0CAROL>" in shown and "earlier approvals lapsed" in shown
    assert has_buttons(edited_card) and decision(home, approval) is None
    bot = await restart(bot, start_bot, slack, policy_path=policy)

    # Bob's client still draws the card from before the edit: his click is refused.
    await stale_click(slack, ts=card["ts"], user="U0BOB", action_id=APPROVE, blocks=before_edit)
    refused = await ephemeral(slack, "U0BOB", "edited after you saw them")
    assert refused["text"].startswith("You may not decide this request")
    await bot.engine.idle()
    assert decision(home, approval) is None and scales(home) == []
    bot = await restart(bot, start_bot, slack, policy_path=policy)

    # From the card as it is now, Bob's approval completes the quorum for the edited call.
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await bot_reply(slack, thread, "scale_service` finished")
    await bot.engine.idle()
    made = existing_decision(home, approval)
    assert made["deciders"] == ["U0CAROL", "U0BOB"]
    assert made["args_sha256"] == args_sha256("scale_service", {"service": "api", "replicas": 6})
    bot = await restart(bot, start_bot, slack, policy_path=policy)
    await bot.engine.sweep()
    await bot.engine.idle()
    (ran,) = scales(home)  # exactly once, as edited, across every restart
    assert ran["key"] == approval and ran["replicas"] == 6
    assert "Approved by <@U0CAROL>, <@U0BOB>" in outcome_text(
        slack.message(channel=OPS, ts=card["ts"])
    )
    assert len(cards(slack, thread)) == 1
