"""What delivery does when Slack refuses a write for good: Slack's documented answers that
no retry can change are recorded as failed in the thread's outbox log, with one warning
line, after a single attempt, and the entries queued behind them still go out. A refusal
retried for ever held every later entry of its thread (the approved call's result too)
behind a call made once a minute until the process stopped.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest
from conftest import FAST
from signoff_e2e_kit import (
    BOT_USER,
    CARD_TITLE,
    OPS,
    approval_id_of,
    as_in_manifest,
    bot_messages,
    bot_reply,
    card_record,
    mention,
    outcome_text,
    restarts,
    thread_path,
    until,
    wait_card,
)

from bot.app import SignoffBot
from bot.cards import APPROVE
from bot.config import Settings
from localslack import LocalSlack, WorkspaceConfig

if TYPE_CHECKING:
    from conftest import BotFactory

GENERAL = "C0GENERAL"
DM = "D0ALICE"


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    """The workspace as the manifest sets it up (direct messages to the app too)."""
    async with LocalSlack(as_in_manifest(WorkspaceConfig(seed=13, timing=FAST))) as server:
        yield server


def outbox_log(settings: Settings, thread: str) -> list[dict[str, Any]]:
    path = thread_path(settings.home, thread) / "outbox.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def gave_up(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "signoff.delivery" and r.levelno == logging.WARNING
    ]


# chat.update's answers in an archived or frozen channel, and for a message whose rich
# text cannot be replaced (docs.slack.dev/reference/methods/chat.update).
@pytest.mark.parametrize("error", ["is_inactive", "block_mismatch"])
async def test_a_card_update_slack_refuses_for_good_is_given_up_and_holds_nothing_back(
    slack: LocalSlack,
    bot: SignoffBot,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    error: str,
) -> None:
    caplog.set_level(logging.INFO)
    thread = await mention(slack, "restart the api service")
    card = await wait_card(slack, thread)
    slack.inject_fault(method="chat.update", error=error, count=None)
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    # The approved call ran once, and the thread hears how it ended.
    done = await bot_reply(slack, thread, "restart_service` finished", timeout=5)
    assert "restarts=1" in done["text"]
    await bot.engine.idle()
    assert restarts(settings.home) == 1
    failed = await until(
        lambda: [d for d in outbox_log(settings, thread) if d["outcome"] == "failed"],
        what="the card's updates recorded as failed",
    )
    assert {d["error"] for d in failed} == {error}
    assert all(d["id"].startswith("card-") for d in failed)
    # One attempt per card version, never again.
    assert len(slack.calls("chat.update")) == len(failed)
    assert [m for m in gave_up(caplog) if error in m] == [
        f"gave up on {d['id']}: {error}" for d in failed
    ]


async def test_a_thread_slack_refuses_holds_back_no_other_thread(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    # Asked in #ops while no bot runs, the bot is taken out of the channel before it starts
    # (chat:write.public is not granted): Slack answers its reply there with not_in_channel.
    thread = await mention(slack, "status of api")
    ops = slack.workspace.channel(OPS)
    assert ops is not None
    ops.members.discard(BOT_USER)
    await start_bot()
    general = await slack.post_message(
        channel=GENERAL, user="U0ALICE", text=f"<@{BOT_USER}> status of web"
    )
    await slack.wait_for_message(
        channel=GENERAL, thread_ts=general, from_bot=True, text_contains="service=web,"
    )
    failed = await until(lambda: outbox_log(settings, thread), what="the #ops reply recorded")
    assert [(d["outcome"], d["error"]) for d in failed] == [("failed", "not_in_channel")]
    posts = [c for c in slack.calls("chat.postMessage") if c.args.get("channel") == OPS]
    assert [c.error for c in posts] == ["not_in_channel"]  # tried once
    assert gave_up(caplog) == [f"gave up on {failed[0]['id']}: not_in_channel"]


async def test_a_revoked_token_is_retried_and_everything_goes_out_once_it_works_again(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    """An error about the token is no reason to drop what is queued: it waits, retried
    with backoff, and goes out once (never twice) when Slack takes the token again."""
    revoked = slack.inject_fault(method="chat.postMessage", error="token_revoked", count=None)
    thread = await mention(slack, "status of api")
    await until(lambda: revoked.fired >= 3, what="three tries of the reply")
    slack.remove_fault(revoked)
    await bot_reply(slack, thread, "service=api,")
    await bot.engine.idle()
    assert len(bot_messages(slack, thread, "service=api,")) == 1
    assert [d["outcome"] for d in outbox_log(settings, thread)] == ["sent"]


async def test_a_routed_card_whose_pointer_slack_refuses_is_still_the_card(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Asked in a direct message, the card goes to the approvals channel and a pointer to
    it back to the DM. The pointer refused for good (the app's Messages tab turned off)
    failed the card's whole entry: the posted card was never recorded, so its decision
    posted a second card and left the first one open, buttons and all."""
    caplog.set_level(logging.INFO)
    bot = await start_bot(approvals_channel=OPS)
    await slack.wait_for_sockets(1, timeout=5)
    slack.inject_fault(
        method="chat.postMessage", channel=DM, error="messages_tab_disabled", count=None
    )
    await slack.post_message(channel=DM, user="U0ALICE", text="restart web")
    card = await slack.wait_for_message(channel=OPS, from_bot=True, text_contains=CARD_TITLE)
    approval = approval_id_of(card)
    record = await until(lambda: card_record(settings.home, approval), what="the card recorded")
    assert record["ts"] == card["ts"]
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await until(lambda: restarts(settings.home, "web") == 1, what="the approved call")
    await until(
        lambda: "Approved by <@U0BOB>" in outcome_text(slack.message(channel=OPS, ts=card["ts"]))
    )
    await bot.engine.idle()
    cards = [m for m in slack.messages(channel=OPS) if CARD_TITLE in str(m.get("blocks"))]
    assert [m["ts"] for m in cards] == [card["ts"]]


async def test_a_routed_card_whose_pointer_slack_asks_to_wait_for_is_posted_once(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings
) -> None:
    """The card went out, then the pointer back to the DM was answered 429: the retry,
    not looking first (a 429 says nothing landed), posted the card a second time."""
    bot = await start_bot(approvals_channel=OPS)
    await slack.wait_for_sockets(1, timeout=5)
    slack.inject_fault(
        method="chat.postMessage", channel=DM, status=429, error="ratelimited", retry_after=0
    )
    await slack.post_message(channel=DM, user="U0ALICE", text="restart web")
    card = await slack.wait_for_message(channel=OPS, from_bot=True, text_contains=CARD_TITLE)
    approval = approval_id_of(card)
    await slack.wait_for_message(channel=DM, from_bot=True, text_contains="needs a person's")
    await until(lambda: card_record(settings.home, approval), what="the card recorded")
    await bot.engine.idle()
    cards = [m for m in slack.messages(channel=OPS) if CARD_TITLE in str(m.get("blocks"))]
    assert [m["ts"] for m in cards] == [card["ts"]]
