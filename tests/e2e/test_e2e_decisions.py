"""Who may decide, what a refused, late or forged click gets, and the deny-with-reason modal.

Each refusal is checked from both sides: the clicker is told why, ephemerally, and the
request is exactly as it was (the card keeps its buttons, nothing ran, no decision file).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from signoff_e2e_kit import (
    OPS,
    approval_id_of,
    approvals_dir,
    asked_under,
    bot_messages,
    bot_reply,
    cards,
    decision,
    ephemeral,
    ephemeral_texts,
    existing_decision,
    form_says,
    has_buttons,
    mention,
    outcome_text,
    restarts,
    stale_click,
    until,
    wait_card,
    write_policy,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import SignoffBot
from bot.cards import APPROVE, DENY
from bot.config import Settings
from bot.reason_modal import DENY_MODAL
from localslack import LocalSlack

if TYPE_CHECKING:
    from conftest import BotFactory


BOB_ONLY = '[tools.restart_service]\napprovers = ["U0BOB"]\n'


async def test_self_outsider_and_late_clicks_are_refused_and_change_nothing(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    policy = write_policy(tmp_path / "policy.toml", BOB_ONLY)
    bot, thread, card, approval = await asked_under(slack, start_bot, policy, "restart api")
    home = settings.home
    open_blocks = card["blocks"]

    # The requester herself.
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0ALICE", action_id=APPROVE)
    told = await ephemeral(slack, "U0ALICE", "someone else must decide")
    assert told["text"].startswith("You may not decide this request")
    # A member of the channel who is not in the policy.
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0CAROL", action_id=APPROVE)
    told = await ephemeral(slack, "U0CAROL", "not an approver")
    assert "U0BOB" in told["text"]  # it names who may decide

    await bot.engine.idle()
    assert has_buttons(slack.message(channel=OPS, ts=card["ts"]))
    assert decision(home, approval) is None
    assert restarts(home) == 0
    assert not slack.calls("chat.update")
    assert bot_messages(slack, thread) == cards(slack, thread)  # the card, and nothing else

    # The allowed approver decides; the card is locked and the call runs once.
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    done = await bot_reply(slack, thread, "restart_service` finished")
    assert "restarts=1" in done["text"]
    locked = slack.message(channel=OPS, ts=card["ts"])
    assert not has_buttons(locked)
    assert "Approved by <@U0BOB>" in outcome_text(locked)

    # A click from a client still showing the open card comes too late.
    await stale_click(slack, ts=card["ts"], user="U0CAROL", action_id=APPROVE, blocks=open_blocks)
    told = await ephemeral(slack, "U0CAROL", "Already decided")
    assert told["text"].startswith("Already decided: approved by <@U0BOB>")
    # Even the winner's own double click does not run anything twice.
    await stale_click(slack, ts=card["ts"], user="U0BOB", action_id=APPROVE, blocks=open_blocks)
    await ephemeral(slack, "U0BOB", "Already decided: approved by <@U0BOB>")
    await bot.engine.idle()

    assert restarts(home) == 1
    assert existing_decision(home, approval)["verdict"] == "approved"
    assert len(bot_messages(slack, thread, "restart_service` finished")) == 1
    assert not has_buttons(slack.message(channel=OPS, ts=card["ts"]))
    # Nobody was told anything they should not have been.
    assert len(ephemeral_texts(slack, "U0ALICE")) == 1
    assert len(ephemeral_texts(slack, "U0CAROL")) == 2
    (bobs,) = ephemeral_texts(slack, "U0BOB")
    assert bobs.startswith("Already decided: approved by <@U0BOB>")


async def test_deny_with_a_reason_then_the_identical_request_is_refused_without_a_card(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    home = settings.home
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)

    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=DENY)
    # The bot asks for a reason in a modal, opened with the click's trigger.
    await bot_modal_opened(slack, "U0BOB")
    opened = slack.calls("views.open")
    assert len(opened) == 1 and opened[0].ok
    assert approval in opened[0].args["view"]["private_metadata"]
    # Nothing is decided before the modal is submitted.
    assert decision(home, approval) is None
    assert has_buttons(slack.message(channel=OPS, ts=card["ts"]))

    await slack.submit_view(
        user="U0BOB", values={"reason": {"reason": "freeze until Monday"}}, callback_id=DENY_MODAL
    )
    reply = await bot_reply(slack, thread, "freeze until Monday")
    assert "did not run `restart_service`" in reply["text"]
    locked = slack.message(channel=OPS, ts=card["ts"])
    assert not has_buttons(locked)
    outcome = outcome_text(locked)
    assert "Denied by <@U0BOB>" in outcome
    assert "freeze until Monday" in outcome
    recorded = existing_decision(home, approval)
    assert recorded["verdict"] == "denied"
    assert recorded["reason"] == "freeze until Monday"
    assert recorded["deciders"] == ["U0BOB"]
    await bot.engine.idle()
    assert restarts(home) == 0

    # The same person asks for the identical call again, in the same thread.
    await slack.post_message(channel=OPS, user="U0ALICE", text="restart api", thread_ts=thread)
    refused = await bot_reply(slack, thread, "refused")
    assert "identical call was denied" in refused["text"]
    await bot.engine.idle()
    assert len(cards(slack, thread)) == 1
    assert restarts(home) == 0
    assert len(list((home / "approvals").glob("*/appr_*"))) == 1


async def bot_modal_opened(slack: LocalSlack, user: str) -> dict[str, Any]:
    views: list[dict[str, Any]] = await until(
        lambda: slack.open_views(user=user), what="the deny modal"
    )
    assert len(views) == 1
    modal = views[0]
    assert modal["callback_id"] == DENY_MODAL
    assert any(b.get("block_id") == "reason" for b in modal["blocks"])
    return modal


async def test_forged_and_copied_buttons_are_refused_and_the_request_stays_pending(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    home = settings.home
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    # Anything holding the bot token can post a message with look-alike buttons.
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)

    async def post_buttons(value: str, text: str) -> str:
        blocks: list[dict[str, Any]] = [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": APPROVE,
                        "text": {"type": "plain_text", "text": "Approve"},
                        "value": value,
                    }
                ],
            },
        ]
        posted = await client.chat_postMessage(
            channel=OPS, thread_ts=thread, text=text, blocks=blocks
        )
        return str(posted["ts"])

    garbage = await post_buttons("rm -rf /", "a button whose value is not an approval id")
    await slack.click_button(channel=OPS, ts=garbage, user="U0BOB", action_id=APPROVE)
    await ephemeral(slack, "U0BOB", "not valid")

    unknown = await post_buttons("appr_0123456789abcdef", "a well-formed id nobody issued")
    await slack.click_button(channel=OPS, ts=unknown, user="U0BOB", action_id=APPROVE)
    await ephemeral(slack, "U0BOB", "does not name a request")

    # The real card's blocks, copied into another message: same value, different ts.
    copied = await client.chat_postMessage(
        channel=OPS, thread_ts=thread, text="copy", blocks=card["blocks"]
    )
    await slack.click_button(channel=OPS, ts=str(copied["ts"]), user="U0BOB", action_id=APPROVE)
    await ephemeral(slack, "U0BOB", "does not belong")
    await slack.click_button(channel=OPS, ts=str(copied["ts"]), user="U0BOB", action_id=DENY)
    await until_ephemerals(slack, "U0BOB", 4)
    assert "does not belong" in ephemeral_texts(slack, "U0BOB")[-1]
    assert not slack.open_views(user="U0BOB")  # no deny modal for a copied card

    await bot.engine.idle()
    assert decision(home, approval) is None
    assert has_buttons(slack.message(channel=OPS, ts=card["ts"]))
    assert restarts(home) == 0
    assert not slack.calls("chat.update")
    pending = await bot.engine.rt.index.approvals(status="pending")
    assert [a.id for a in pending] == [approval]

    # The genuine card still works afterwards.
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await bot_reply(slack, thread, "restart_service` finished")
    assert restarts(home) == 1


async def until_ephemerals(slack: LocalSlack, user: str, count: int) -> None:
    await until(lambda: len(ephemeral_texts(slack, user)) >= count, what=f"{count} ephemerals")


@pytest.mark.parametrize("clicker", ["outsider", "late"])
async def test_a_deny_click_from_someone_who_cannot_deny_gets_no_modal(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path, clicker: str
) -> None:
    policy = write_policy(tmp_path / "policy.toml", BOB_ONLY)
    bot: SignoffBot = await start_bot(policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    if clicker == "outsider":
        await slack.click_button(channel=OPS, ts=card["ts"], user="U0CAROL", action_id=DENY)
    else:
        await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
        await bot_reply(slack, thread, "restart_service` finished")
        await stale_click(
            slack, ts=card["ts"], user="U0CAROL", action_id=DENY, blocks=card["blocks"]
        )
    # Whichever comes first: a modal, or a word to the clicker.
    await until(
        lambda: slack.calls("views.open") or ephemeral_texts(slack, "U0CAROL"),
        what="the bot's answer to the click",
    )
    await bot.engine.idle()
    assert slack.calls("views.open") == []
    assert slack.open_views(user="U0CAROL") == []
    expected = "not an approver" if clicker == "outsider" else "Already decided: approved"
    assert expected in ephemeral_texts(slack, "U0CAROL")[0]


async def test_a_deny_reason_is_authorized_again_on_submission(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    """The modal opened while Bob could deny; the policy was tightened before he submitted."""
    bot: SignoffBot = await start_bot(policy_path=write_policy(tmp_path / "bob.toml", BOB_ONLY))
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=DENY)
    await until(lambda: slack.open_views(user="U0BOB"), what="a modal")
    await bot.stop(grace=5)
    dave_only = '[default]\napprovers = ["U0DAVE"]\n'
    bot = await start_bot(policy_path=write_policy(tmp_path / "dave.toml", dave_only))
    await slack.wait_for_sockets(1, timeout=5)
    await slack.submit_view(user="U0BOB", values={"reason": {"reason": "I say no"}})
    told = await form_says(slack, "U0BOB", "not an approver")
    assert "You may not decide this request" in json.dumps(told["blocks"])
    await bot.engine.idle()
    assert decision(settings.home, approval) is None
    assert has_buttons(slack.message(channel=OPS, ts=card["ts"]))
    assert bot_messages(slack, thread, "I say no") == []


@pytest.mark.parametrize("action_id", [DENY, APPROVE])
async def test_a_click_that_opens_a_modal_on_a_request_that_cannot_be_read_is_answered(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    action_id: str,
) -> None:
    """Deny, and Approve where a reason is required, read the request's decision before
    they open a modal. A decision file that cannot be read made the click handler raise
    right after its ack: Bolt then withheld that ack (Slack showed Bob an error), logged a
    traceback, and Bob was told nothing. Now he is told the request cannot be decided."""
    reasons = BOB_ONLY + "require_reason = true\n"
    bot: SignoffBot = await start_bot(policy_path=write_policy(tmp_path / "p.toml", reasons))
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    approval_id = approval_id_of(card)
    await bot.engine.idle()
    (approvals_dir(settings.home, approval_id) / f"{approval_id}.decision.json").write_text("{")
    caplog.set_level(logging.ERROR)
    click = await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=action_id)
    (told,) = await until(lambda: ephemeral_texts(slack, "U0BOB"), what="an answer to Bob")
    assert "cannot be decided" in told and "signoff verify" in told
    delivery = await slack.wait_for_ack(click.envelope_id)
    assert not delivery.user_saw_error and not delivery.late_ack
    assert slack.calls("views.open") == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
