"""Where people talk to signoff: private channels and direct messages, through the real Bolt
app against a LocalSlack that runs the app exactly as manifest.yml declares it.

A direct message works like a thread without the mention. A gated call asked there posts
its card in SIGNOFF_APPROVALS_CHANNEL, linked both ways; without that setting the model
is told at the gate that approvals need a channel, and nothing waits.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import FAST
from signoff_e2e_kit import (
    approval_id_of,
    as_in_manifest,
    card_record,
    existing_card_record,
    existing_decision,
    has_buttons,
    lineage,
    outcome_text,
    restarts,
    session_states,
    until,
)

from bot.app import SignoffBot
from bot.cards import APPROVE
from bot.config import ConfigError, Settings
from localslack import LocalSlack, WorkspaceConfig

if TYPE_CHECKING:
    from conftest import BotFactory


DM = "D0ALICE"
APPROVALS = "C0OPS"
BOT = "U0SIGNOFF"


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    async with LocalSlack(as_in_manifest(WorkspaceConfig(seed=13, timing=FAST))) as server:
        yield server


async def reply_in(
    slack: LocalSlack, channel: str, thread: str, contains: str, timeout: float = 10
) -> dict[str, Any]:
    return await slack.wait_for_message(
        channel=channel, thread_ts=thread, from_bot=True, text_contains=contains, timeout=timeout
    )


def top_level_cards(slack: LocalSlack, channel: str) -> list[dict[str, Any]]:
    return [
        m
        for m in slack.messages(channel=channel)
        if m.get("bot_id") and "Approval needed" in str(m.get("blocks"))
    ]


async def test_a_direct_message_is_a_conversation_without_a_mention(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    ts = await slack.post_message(channel=DM, user="U0ALICE", text="status of api")
    answer = await reply_in(slack, DM, ts, "service=api,")
    assert answer["thread_ts"] == ts  # threaded under her message, like in a channel
    await slack.post_message(channel=DM, user="U0ALICE", text="status of db", thread_ts=ts)
    await reply_in(slack, DM, ts, "service=db,")
    await bot.engine.idle()
    assert len(lineage(settings.home, ts, channel=DM)) == 2  # one thread, two sessions


async def test_without_an_approvals_channel_a_gated_call_is_refused_at_the_gate(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    ts = await slack.post_message(channel=DM, user="U0ALICE", text="restart api")
    told = await reply_in(slack, DM, ts, "needs a person's approval")
    assert "in a channel" in told["text"]
    await bot.engine.idle()
    # Nothing was parked: no capsule, no card anywhere, and the session ended.
    assert not list((settings.home / "approvals").glob("*/appr_*"))
    assert top_level_cards(slack, APPROVALS) == []
    assert set(session_states(settings.home).values()) == {"completed"}
    assert restarts(settings.home) == 0


async def test_a_gated_call_from_a_dm_is_decided_in_the_approvals_channel(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings
) -> None:
    bot: SignoffBot = await start_bot(approvals_channel=APPROVALS)
    await slack.wait_for_sockets(1, timeout=5)
    ts = await slack.post_message(channel=DM, user="U0ALICE", text="restart api")
    # The card is a new message in the approvals channel, with a link back to the DM.
    [card] = await until(lambda: top_level_cards(slack, APPROVALS), what="the card")
    approval = approval_id_of(card)
    asked = str(card["blocks"])
    assert f"<@U0ALICE> in <{slack.api_url.removesuffix('/api/')}/archives/{DM}/p" in asked
    assert "|a direct message> with signoff asked:" in asked
    assert ">restart api" in asked
    recorded = await until(lambda: card_record(settings.home, approval), what="card.json")
    assert (recorded["channel"], recorded["ts"]) == (APPROVALS, card["ts"])
    # The DM's thread says where its request waits, with a link to the card.
    pointer = await reply_in(slack, DM, ts, "needs a person's approval: I asked in")
    assert f"<#{APPROVALS}>" in pointer["text"]
    assert f"/archives/{APPROVALS}/p{card['ts'].replace('.', '')}|the card>" in pointer["text"]

    # Alice may not approve her own request: she is told in the card's thread.
    await slack.click_button(channel=APPROVALS, ts=card["ts"], user="U0ALICE", action_id=APPROVE)
    refusal = await slack.wait_for_ephemeral(user="U0ALICE", text_contains="You may not decide")
    assert (refusal["channel"], refusal["thread_ts"]) == (APPROVALS, card["ts"])

    # Bob approves in the channel: the card locks there, the conversation goes on in the DM.
    await slack.click_button(channel=APPROVALS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await reply_in(slack, DM, ts, "restart_service` finished")
    locked = slack.message(channel=APPROVALS, ts=card["ts"])
    assert not has_buttons(locked)
    assert "Approved by <@U0BOB>" in outcome_text(locked)
    await bot.engine.idle()
    assert restarts(settings.home) == 1
    assert existing_decision(settings.home, approval)["verdict"] == "approved"
    assert len(top_level_cards(slack, APPROVALS)) == 1


async def test_a_card_posted_before_a_lost_answer_is_adopted_not_posted_twice(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings
) -> None:
    bot: SignoffBot = await start_bot(approvals_channel=APPROVALS)
    await slack.wait_for_sockets(1, timeout=5)
    # The first chat.postMessage (the card) lands, but its answer is lost.
    slack.inject_fault(method="chat.postMessage", status=500, after_commit=True)
    ts = await slack.post_message(channel=DM, user="U0ALICE", text="restart web")
    await reply_in(slack, DM, ts, "I asked in", timeout=15)
    await bot.engine.idle()
    cards = top_level_cards(slack, APPROVALS)
    assert len(cards) == 1
    approval = approval_id_of(cards[0])
    assert existing_card_record(settings.home, approval)["ts"] == cards[0]["ts"]
    pointers = [m for m in slack.thread(channel=DM, ts=ts) if "I asked in" in str(m.get("text"))]
    assert len(pointers) == 1


async def test_private_channels_work_like_public_ones(slack: LocalSlack, bot: SignoffBot) -> None:
    private = "C0PRIVATE"  # Alice and signoff
    ts = await slack.post_message(channel=private, user="U0ALICE", text=f"<@{BOT}> status of api")
    await reply_in(slack, private, ts, "service=api,")
    # A follow-up without a mention: message.groups brings it.
    await slack.post_message(channel=private, user="U0ALICE", text="status of db", thread_ts=ts)
    await reply_in(slack, private, ts, "service=db,")
    await slack.post_message(channel=private, user="U0ALICE", text="restart web", thread_ts=ts)
    card = await reply_in(slack, private, ts, "Approval needed")
    assert has_buttons(card)  # decided where it was asked, like in a public channel


@pytest.mark.parametrize(
    ("channel", "problem"),
    [
        ("C0RANDOM", "signoff is not a member; invite it"),
        ("C0NOWHERE", "no such channel"),
    ],
)
async def test_an_approvals_channel_signoff_cannot_post_in_stops_start_up(
    slack: LocalSlack, settings: Settings, channel: str, problem: str
) -> None:
    with pytest.raises(ConfigError, match=problem):
        await SignoffBot.build(settings.model_copy(update={"approvals_channel": channel}))


def test_the_approvals_channel_must_be_a_channel_id(tmp_path: Path) -> None:
    env = {"SIGNOFF_HOME": str(tmp_path)}
    for bad, says in (("#approvals", "channel id such as"), ("D0ALICE", "not a direct message")):
        with pytest.raises(ConfigError, match=says):
            Settings.from_env({**env, "SIGNOFF_APPROVALS_CHANNEL": bad})
    good = Settings.from_env({**env, "SIGNOFF_APPROVALS_CHANNEL": "C0APPROVALS"})
    assert good.approvals_channel == "C0APPROVALS"
    assert json.loads(good.model_dump_json())["approvals_channel"] == "C0APPROVALS"
