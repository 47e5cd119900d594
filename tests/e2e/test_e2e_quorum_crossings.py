"""A quorum of two crossed by what else may happen to it: a deny after one approval, a
card update overtaken by the next vote's, an escalation that completes it, and a reminder
falling due just after it was decided.

Each test reads the outcome from both sides: the card as Slack stores it at the end (its
outcome, no buttons once decided) and the bot's disk (votes, the decision, how often the
fleet was touched). (Found by a helper probing combinations of governance.)
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import FAST, restart
from signoff_e2e_kit import (
    OPS,
    approval_id_of,
    approvals_dir,
    as_in_manifest,
    asked_under,
    bot_messages,
    bot_reply,
    decision,
    ephemeral,
    existing_decision,
    existing_message,
    has_buttons,
    mention,
    outcome_text,
    restarts,
    scales,
    stale_click,
    until,
    wait_card,
    write_policy,
)

from bot.app import SignoffBot
from bot.card_governance import EDIT
from bot.cards import APPROVE, DENY
from bot.config import Settings
from bot.edit_modal import EDIT_MODAL
from bot.reason_modal import DENY_MODAL
from localslack import LocalSlack, WorkspaceConfig
from sessions import FixedClock

if TYPE_CHECKING:
    from conftest import BotFactory


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    # As manifest.yml declares the app: Slack tells it when an approver group changes.
    async with LocalSlack(as_in_manifest(WorkspaceConfig(seed=7, timing=FAST))) as server:
        yield server


GROUP = "S0APPROVERS"
QUORUM_OF_TWO = """
[tools.restart_service]
approvers = ["U0BOB", "U0CAROL", "U0DAVE"]
quorum = 2
"""


def _votes(home: Path, approval: str) -> list[dict[str, Any]]:
    return [
        json.loads(p.read_text())
        for p in sorted(home.glob(f"sessions/**/approvals/{approval}.votes/*.json"))
    ]


def _blocks(slack: LocalSlack, ts: str) -> str:
    return json.dumps(existing_message(slack, channel=OPS, ts=ts)["blocks"], ensure_ascii=False)


async def _bob_counted(slack: LocalSlack, card: dict[str, Any]) -> list[dict[str, Any]]:
    """Bob approves: 1 of 2, told and on the card; the card's blocks as they show it."""
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await ephemeral(slack, "U0BOB", "counted: 1 of 2")
    await until(lambda: "1 of 2 approvals" in _blocks(slack, card["ts"]), what="the count")
    blocks: list[dict[str, Any]] = existing_message(slack, channel=OPS, ts=card["ts"])["blocks"]
    return blocks


async def _asked_of_group(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path
) -> tuple[SignoffBot, str, dict[str, Any], str]:
    """Bob, Carol and Dave (who joins #ops) are the approver group; two of them must
    approve "scale api to 12": the bot, the thread, the card, its approval id."""
    await slack.update_group_members(group=GROUP, users=["U0BOB", "U0CAROL", "U0DAVE"])
    policy = write_policy(
        tmp_path / "policy.toml", f'[tools.scale_service]\napprovers = ["{GROUP}"]\nquorum = 2\n'
    )
    asked = await asked_under(slack, start_bot, policy, "scale api to 12")
    await slack.join_channel(channel=OPS, user="U0DAVE")
    return asked


async def _edit_to_six(slack: LocalSlack, card: dict[str, Any], user: str) -> None:
    """``user`` edits the card's call to 6 replicas through the Edit & approve form."""
    await slack.click_button(channel=OPS, ts=card["ts"], user=user, action_id=EDIT)
    await until(lambda: slack.open_views(user=user), what=f"{user}'s edit modal")
    await slack.submit_view(
        user=user,
        callback_id=EDIT_MODAL,
        values={"arg:service": {"value": "api"}, "arg:replicas": {"value": "6"}},
    )
    await ephemeral(slack, user, "Your edit is recorded")


async def _late_click_told(
    bot: SignoffBot,
    slack: LocalSlack,
    card: dict[str, Any],
    outcome: str,
    *,
    user: str,
    blocks: list[dict[str, Any]],
) -> None:
    """Once the card's outcome says ``outcome`` (Slack may take a while, failing), an
    Approve from ``user``'s client still drawing ``blocks`` is told it was decided."""
    await until(
        lambda: outcome in outcome_text(slack.message(channel=OPS, ts=card["ts"])),
        what=f"the card saying {outcome!r}",
        timeout=20,
    )
    await stale_click(slack, ts=card["ts"], user=user, action_id=APPROVE, blocks=blocks)
    await ephemeral(slack, user, "Already decided")
    await bot.engine.sweep()
    await bot.engine.idle()


async def test_a_deny_after_one_of_two_approvals_ends_it_even_while_slack_fails_the_update(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    """Bob's approval counted (1 of 2); Carol denies with a reason, and Slack answers the
    card's update with a 500 twice. The card ends denied with no buttons and no count;
    Bob's second click (from the card as it was) is told it was decided."""
    policy = write_policy(tmp_path / "policy.toml", QUORUM_OF_TWO)
    bot, thread, card, approval = await asked_under(slack, start_bot, policy, "restart api")
    home = settings.home
    counted = await _bob_counted(slack, card)

    await slack.click_button(channel=OPS, ts=card["ts"], user="U0CAROL", action_id=DENY)
    await until(lambda: slack.open_views(user="U0CAROL"), what="Carol's deny modal")
    fault = slack.inject_fault(method="chat.update", status=500, count=2)
    await slack.submit_view(
        user="U0CAROL", callback_id=DENY_MODAL, values={"reason": {"reason": {"value": "no"}}}
    )
    await _late_click_told(bot, slack, card, "Denied by", user="U0BOB", blocks=counted)

    made = existing_decision(home, approval)
    assert made["verdict"] == "denied" and made["deciders"] == ["U0CAROL"]
    assert [v["user"] for v in _votes(home, approval)] == ["U0BOB"]  # nothing more counted
    assert restarts(home) == 0
    final = existing_message(slack, channel=OPS, ts=card["ts"])
    assert not has_buttons(final)
    assert "Denied by <@U0CAROL>" in outcome_text(final)
    assert "1 of 2 approvals" not in _blocks(slack, card["ts"])
    assert fault.remaining == 0


async def test_a_vote_counts_update_held_up_is_never_the_cards_last_word(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    """Slack holds the card's "1 of 2" update; meanwhile Carol's approval completes the
    quorum and the call runs. Once Slack lets the held update through, the card still
    ends approved, with the result and no buttons: an older state never lands last."""
    policy = write_policy(tmp_path / "policy.toml", QUORUM_OF_TWO)
    bot, thread, card, approval = await asked_under(slack, start_bot, policy, "restart api")
    home = settings.home
    held = slack.hold_calls(method="chat.update", count=1, channel=OPS)
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await until(lambda: len(_votes(home, approval)) == 1, what="Bob's vote")
    await held.wait_held(1)
    assert "1 of 2" in json.dumps(held.held[0].get("blocks"))

    await slack.click_button(channel=OPS, ts=card["ts"], user="U0CAROL", action_id=APPROVE)
    await until(lambda: restarts(home) == 1, what="the call to run")
    held.release()
    await bot_reply(slack, thread, "restart_service` finished")
    await until(
        lambda: "ran: ok" in outcome_text(slack.message(channel=OPS, ts=card["ts"])),
        what="the card showing the result",
        timeout=15,
    )
    await bot.engine.sweep()
    await bot.engine.idle()
    final = existing_message(slack, channel=OPS, ts=card["ts"])
    assert not has_buttons(final)
    assert "Approved by <@U0BOB>, <@U0CAROL>" in outcome_text(final)
    assert existing_decision(home, approval)["deciders"] == ["U0BOB", "U0CAROL"]
    assert restarts(home) == 1


ESCALATING_QUORUM = """
[tools.restart_service]
approvers = ["U0BOB"]
quorum = 2
remind_after = "2h"
max_reminders = 3
escalate_after = "4h"
escalate_to = ["S0ONCALL"]
expires_after = "4h"
"""


async def test_an_escalation_due_with_the_expiry_lets_no_one_decide_after_it(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    e2e_clock: FixedClock,
    tmp_path: Path,
) -> None:
    """With one named approver and a quorum of two, only the escalation could complete
    it, and it falls due at the very moment the request expires. The expiry wins: Bob's
    approval and the escalated Carol's click after it decide nothing, the card says
    expired with no buttons, and nothing ran. (Asked so, the request is refused at the
    gate, which knows the escalation would come too late: it is asked with the escalation
    due an hour earlier, and nothing runs from before it until the expiry, so both fall
    due in one pass, the expiry first. The policy changed to escalate at the expiry while
    it waits moves nothing: a waiting request keeps its captured timings.)"""
    early = ESCALATING_QUORUM.replace('escalate_after = "4h"', 'escalate_after = "3h"')
    policy = write_policy(tmp_path / "policy.toml", early)
    bot, thread, card, approval = await asked_under(slack, start_bot, policy, "restart api")
    home = settings.home
    counted = await _bob_counted(slack, card)
    write_policy(policy, ESCALATING_QUORUM)
    bot = await restart(bot, start_bot, slack, policy_path=policy)
    e2e_clock.advance(timedelta(hours=4))
    await bot.engine.sweep()
    await bot.engine.idle()
    await stale_click(slack, ts=card["ts"], user="U0CAROL", action_id=APPROVE, blocks=counted)
    await ephemeral(slack, "U0CAROL", "expired")
    await bot.engine.idle()
    await until(
        lambda: "Expired" in outcome_text(slack.message(channel=OPS, ts=card["ts"])),
        what="the card showing the expiry",
    )
    await bot.engine.sweep()
    await bot.engine.idle()
    assert restarts(home) == 0
    made = decision(home, approval)
    assert made is not None and made["verdict"] == "expired", made
    assert not has_buttons(existing_message(slack, channel=OPS, ts=card["ts"]))
    assert [v["user"] for v in _votes(home, approval)] == ["U0BOB"]
    assert not (approvals_dir(home, approval) / f"{approval}.escalated.json").exists()


async def test_an_escalated_approver_completes_the_quorum_and_no_reminder_follows(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    e2e_clock: FixedClock,
    tmp_path: Path,
) -> None:
    """Bob approves (1 of 2); at 4h the escalation adds S0ONCALL and Carol completes the
    quorum a moment before the next reminder is due. The call runs once, the card ends
    approved by both with no buttons, and no reminder pings anyone after it."""
    policy = write_policy(
        tmp_path / "policy.toml",
        ESCALATING_QUORUM.replace('expires_after = "4h"', 'expires_after = "2d"'),
    )
    bot, thread, card, approval = await asked_under(slack, start_bot, policy, "restart api")
    home = settings.home
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await ephemeral(slack, "U0BOB", "counted: 1 of 2")
    e2e_clock.advance(timedelta(hours=4))
    await bot.engine.sweep()
    await bot_reply(slack, thread, "escalated to")
    await bot_reply(slack, thread, "Reminder 2 of 3")
    await bot.engine.idle()
    reminders = len(bot_messages(slack, thread, "Reminder"))
    e2e_clock.advance(timedelta(hours=2) - timedelta(seconds=1))
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0CAROL", action_id=APPROVE)
    await bot_reply(slack, thread, "restart_service` finished")
    e2e_clock.advance(timedelta(seconds=2))
    await bot.engine.sweep()
    await bot.engine.idle()
    e2e_clock.advance(timedelta(hours=6))
    await bot.engine.sweep()
    await bot.engine.idle()

    assert len(bot_messages(slack, thread, "Reminder")) == reminders
    assert existing_decision(home, approval)["deciders"] == ["U0BOB", "U0CAROL"]
    assert restarts(home) == 1
    final = existing_message(slack, channel=OPS, ts=card["ts"])
    assert not has_buttons(final)
    assert "Approved by <@U0BOB>, <@U0CAROL>" in outcome_text(final)
    assert "Escalated to" in _blocks(slack, card["ts"])


def _grid_click(user: str, card: dict[str, Any], *, block_id: str, team: str) -> dict[str, Any]:
    """A click on ``card`` shaped as Slack sends one on Enterprise Grid (the payload's
    ``team`` names its enterprise, ``enterprise`` is set, the clicker's ``user.team_id`` is
    ``team``), with the actions block id ``block_id`` (a client could send any)."""
    actions = card["blocks"][-1]
    value = actions["elements"][0]["value"]
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team},
        "api_app_id": "A0SIGNOFF",
        "token": "legacy",
        "container": {"type": "message", "message_ts": card["ts"], "channel_id": OPS},
        "trigger_id": "1111.2222.grid",
        "team": {
            "id": "T0LOCAL",
            "domain": "localslack",
            "enterprise_id": "E0GRID",
            "enterprise_name": "Grid",
        },
        "enterprise": {"id": "E0GRID", "name": "Grid"},
        "is_enterprise_install": False,
        "channel": {"id": OPS, "name": "ops"},
        "message": {"type": "message", "ts": card["ts"], "text": card.get("text", "")},
        "actions": [
            {
                "action_id": APPROVE,
                "block_id": block_id,
                "type": "button",
                "value": value,
                "action_ts": "1900000000.000100",
            }
        ],
    }


async def test_grid_clicks_are_held_to_the_hash_their_block_names_and_their_team(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    """Enterprise Grid payloads on a real card: one whose actions block id names another
    request's hash (a tampered or confused client) is refused, one from a person of
    another organization of that Grid (their ``user.team_id``) is refused under
    "anyone", and the genuine one approves what the card shows, once."""
    home = settings.home
    bot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    other_thread = await mention(slack, "scale api to 3")
    other = await wait_card(slack, other_thread)
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    own_block = card["blocks"][-1]["block_id"]
    others_hash = other["blocks"][-1]["block_id"].rsplit("-h", 1)[1]
    assert own_block.rsplit("-h", 1)[1] != others_hash

    async def send(payload: dict[str, Any]) -> None:
        sent = await slack.send_envelope(type="interactive", payload=payload)
        assert not (await slack.wait_for_ack(sent.envelope_id, timeout=5)).timed_out

    tampered = own_block.rsplit("-h", 1)[0] + "-h" + others_hash
    await send(_grid_click("U0BOB", card, block_id=tampered, team="T0LOCAL"))
    await ephemeral(slack, "U0BOB", "does not match the arguments")
    await send(_grid_click("U0CAROL", card, block_id=own_block, team="T0ELSEWHERE"))
    await ephemeral(slack, "U0CAROL", "another organization")
    await bot.engine.idle()
    assert decision(home, approval) is None and restarts(home) == 0
    assert has_buttons(existing_message(slack, channel=OPS, ts=card["ts"]))

    await send(_grid_click("U0BOB", card, block_id=own_block, team="T0LOCAL"))
    await bot_reply(slack, thread, "restart_service` finished")
    await bot.engine.idle()
    assert existing_decision(home, approval)["deciders"] == ["U0BOB"]
    assert restarts(home) == 1
    final = existing_message(slack, channel=OPS, ts=card["ts"])
    assert not has_buttons(final) and "Approved by <@U0BOB>" in outcome_text(final)


async def test_an_edit_landing_while_the_completing_vote_waits_on_slack_wins_over_it(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    """Quorum 2 of a user group. Bob approved; Carol's approval, which would complete it,
    waits on Slack for who is in the group, and meanwhile Dave's edit is recorded. Carol
    approved the arguments as asked, which are no longer the call: she is told so and
    nothing is decided; from the edited card her approval completes the quorum with
    Dave's, and the call runs once, as edited."""
    bot, thread, card, approval = await _asked_of_group(slack, start_bot, tmp_path)
    home = settings.home
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await ephemeral(slack, "U0BOB", "counted: 1 of 2")
    # A fresh bot has no group members cached: the next click asks Slack.
    bot = await restart(bot, start_bot, slack, policy_path=tmp_path / "policy.toml")
    await bot.engine.idle()

    held = slack.hold_calls(method="usergroups.users.list", count=1)
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0CAROL", action_id=APPROVE)
    await held.wait_held(1)
    await _edit_to_six(slack, card, "U0DAVE")
    held.release()
    await ephemeral(slack, "U0CAROL", "edited after you saw them")
    await bot.engine.idle()
    assert decision(home, approval) is None and scales(home) == []
    edited = await until(
        lambda: (
            (m := slack.message(channel=OPS, ts=card["ts"]))
            and "1 of 2 approvals: <@U0DAVE>" in json.dumps(m["blocks"], ensure_ascii=False)
            and m
        ),
        what="the card showing the edit and Dave's approval",
    )
    assert has_buttons(edited)

    await slack.click_button(channel=OPS, ts=card["ts"], user="U0CAROL", action_id=APPROVE)
    await bot_reply(slack, thread, "scale_service` finished")
    await bot.engine.sweep()
    await bot.engine.idle()
    made = existing_decision(home, approval)
    assert made["deciders"] == ["U0DAVE", "U0CAROL"] and made["edit"] == 1
    (ran,) = scales(home)
    assert ran["replicas"] == 6
    final = existing_message(slack, channel=OPS, ts=card["ts"])
    assert not has_buttons(final) and "Approved by <@U0DAVE>, <@U0CAROL>" in outcome_text(final)


async def test_a_card_names_who_counts_when_a_vote_takes_the_place_of_one_that_lapsed(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    """Bob approved (1 of 2) and left the approver group; Carol's approval discounts his,
    so the count is 1 of 2 again, now Carol's: the card must say so (and not keep Bob's
    name because the number did not change)."""
    bot, thread, card, approval = await _asked_of_group(slack, start_bot, tmp_path)
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await ephemeral(slack, "U0BOB", "counted: 1 of 2")
    await until(lambda: "1 of 2 approvals: <@U0BOB>" in _blocks(slack, card["ts"]))
    await slack.update_group_members(group=GROUP, users=["U0CAROL", "U0DAVE"])
    await bot.engine.idle()
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0CAROL", action_id=APPROVE)
    await ephemeral(slack, "U0CAROL", "counted: 1 of 2")
    await until(
        lambda: "1 of 2 approvals: <@U0CAROL>" in _blocks(slack, card["ts"]),
        what="the card counting Carol, not Bob",
    )
    await bot.engine.idle()
    assert "<@U0BOB>" not in _blocks(slack, card["ts"]).split("approvals:", 1)[1]
    assert decision(settings.home, approval) is None and scales(settings.home) == []


async def test_an_edit_whose_author_left_the_approver_group_no_longer_counts(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    """An edit is its author's approval: Carol's edit counted (1 of 2), then she left the
    approver group. Bob's approval of the edited call does not complete the quorum with
    hers; Dave's does, and the call runs once, as Carol edited it."""
    bot, thread, card, approval = await _asked_of_group(slack, start_bot, tmp_path)
    home = settings.home
    await _edit_to_six(slack, card, "U0CAROL")
    await slack.update_group_members(group=GROUP, users=["U0BOB", "U0DAVE"])
    await bot.engine.idle()

    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await ephemeral(slack, "U0BOB", "counted: 1 of 2")
    await bot.engine.idle()
    assert decision(home, approval) is None and scales(home) == []
    await until(
        lambda: "1 of 2 approvals: <@U0BOB>" in _blocks(slack, card["ts"]),
        what="the card counting Bob alone",
    )
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0DAVE", action_id=APPROVE)
    await bot_reply(slack, thread, "scale_service` finished")
    await bot.engine.sweep()
    await bot.engine.idle()
    made = existing_decision(home, approval)
    assert made["deciders"] == ["U0BOB", "U0DAVE"] and made["edit"] == 1
    (ran,) = scales(home)
    assert ran["replicas"] == 6
    final = existing_message(slack, channel=OPS, ts=card["ts"])
    assert not has_buttons(final) and "Approved by <@U0BOB>, <@U0DAVE>" in outcome_text(final)


async def test_a_vote_of_someone_removed_from_the_private_channel_does_not_complete_a_quorum(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    """Bob approved (1 of 2) in a private channel, then was removed from it: a click of his
    now decides nothing there, so his vote should not complete the quorum with Carol's,
    as a vote of someone who left the approver group does not."""
    private = "C0PRIVATE"
    for user in ("U0BOB", "U0CAROL"):
        await slack.join_channel(channel=private, user=user)
    policy = write_policy(
        tmp_path / "policy.toml",
        '[tools.restart_service]\napprovers = ["U0BOB", "U0CAROL"]\nquorum = 2\n',
    )
    bot = await start_bot(policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    asked = await slack.post_message(
        channel=private, user="U0ALICE", text="<@U0SIGNOFF> restart api"
    )
    card = await slack.wait_for_message(
        channel=private, thread_ts=asked, from_bot=True, text_contains="Approval needed"
    )
    approval = approval_id_of(card)
    await slack.click_button(channel=private, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await until(lambda: _votes(settings.home, approval), what="Bob's vote")
    await slack.leave_channel(channel=private, user="U0BOB")
    await bot.engine.idle()

    await slack.click_button(channel=private, ts=card["ts"], user="U0CAROL", action_id=APPROVE)
    await ephemeral(slack, "U0CAROL", "counted: 1 of 2", timeout=5)
    await bot.engine.idle()
    assert decision(settings.home, approval) is None and restarts(settings.home) == 0


async def test_a_quorum_half_way_that_expires_while_slack_hangs_then_limits_ends_denied(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    e2e_clock: FixedClock,
    tmp_path: Path,
) -> None:
    """Bob's approval counted (1 of 2); the request runs out (``on_expiry = "deny"``) while
    Slack hangs the card's update and then answers the next with a 429. The card ends
    denied for want of a decision, with no buttons and no count; Carol's click from the
    card as it was is told it was decided, and nothing ran."""
    policy = write_policy(
        tmp_path / "policy.toml",
        QUORUM_OF_TWO + 'expires_after = "1h"\non_expiry = "deny"\n',
    )
    bot = await start_bot(policy_path=policy, slack_timeout_s=1)
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    counted = await _bob_counted(slack, card)
    hung = slack.inject_fault(method="chat.update", hang=True)
    limited = slack.inject_fault(method="chat.update", status=429, retry_after=1)
    e2e_clock.advance(timedelta(hours=1))
    await bot.engine.sweep()
    await _late_click_told(bot, slack, card, "no decision before", user="U0CAROL", blocks=counted)
    assert (hung.fired, limited.fired) == (1, 1)
    made = existing_decision(settings.home, approval)
    assert made["verdict"] == "denied" and restarts(settings.home) == 0
    assert [v["user"] for v in _votes(settings.home, approval)] == ["U0BOB"]
    final = existing_message(slack, channel=OPS, ts=card["ts"])
    assert not has_buttons(final) and "1 of 2 approvals" not in _blocks(slack, card["ts"])
