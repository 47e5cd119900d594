"""A person edits a waiting follow-up in a direct message with signoff and in a group DM.

Slack sends ``message_changed`` there too, with ``channel_type`` "im" or "mpim": in a
direct message every message is for signoff, in a group DM a thread it takes part in is
(as in a channel). The edited text is what signoff answers in both; a message
signoff took part in neither (a group DM's chatter, edited) stays no request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from conftest import FAST
from signoff_e2e_kit import (
    BOT_USER,
    CARD_TITLE,
    GROUP_DM,
    answered_deliveries,
    until,
    with_group_dm,
)

from bot.app import SignoffBot
from bot.config import Settings
from localslack import LocalSlack, WorkspaceConfig
from sessions import Home, ThreadDir, ThreadKey, coordination_for

DM = "D0ALICE"
ALICE = "U0ALICE"


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:  # the manifest's app, and one group DM
    async with LocalSlack(with_group_dm(WorkspaceConfig(seed=7, timing=FAST))) as server:
        yield server


def _said(slack: LocalSlack, channel: str, thread: str, contains: str = "") -> list[str]:
    return [
        str(m.get("text", ""))
        for m in slack.thread(channel=channel, ts=thread)
        if m.get("bot_id") and m["ts"] != thread and contains in str(m.get("text", ""))
    ]


async def _answered(slack: LocalSlack, channel: str, thread: str, contains: str) -> None:
    await slack.wait_for_message(
        channel=channel, thread_ts=thread, from_bot=True, text_contains=contains, timeout=10
    )


@pytest.mark.parametrize("channel", [DM, GROUP_DM], ids=["im", "mpim"])
async def test_an_edit_of_a_waiting_follow_up_in_a_dm_is_what_signoff_answers(
    channel: str, slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    asks = "status of db" if channel == DM else f"<@{BOT_USER}> status of db"
    thread = await slack.post_message(channel=channel, user=ALICE, text=asks)
    await _answered(slack, channel, thread, "service=db")
    await bot.engine.idle()
    key = ThreadKey(team="T0LOCAL", channel=channel, thread_ts=thread)
    inbox = ThreadDir(Home(settings.home), key).inbox
    async with coordination_for(Home(settings.home)).thread_locks.hold(key):
        ts = await slack.post_message(channel=channel, user=ALICE, text="restart api",
                                      thread_ts=thread)  # fmt: skip
        await until((inbox.new / ts).exists, what="the follow-up to wait")
        await slack.edit_message(channel=channel, user=ALICE, ts=ts, text="status of web")
        await until(lambda: [m.text for m in inbox.pending()] == ["status of web"],
                    what="the edit to land")  # fmt: skip
    await _answered(slack, channel, thread, "service=web")
    await bot.engine.idle()
    assert _said(slack, channel, thread, CARD_TITLE) == []
    assert len(_said(slack, channel, thread)) == 2


async def test_an_edit_of_group_dm_chatter_is_no_request(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    """Bob's message in the group DM asked signoff nothing; his edit of it does not
    either, nor does his reply in its thread, edited."""
    chat = await slack.post_message(channel=GROUP_DM, user="U0BOB", text="lunch?")
    reply = await slack.post_message(channel=GROUP_DM, user=ALICE, text="sure", thread_ts=chat)
    await until(lambda: answered_deliveries(slack, reply), what="the reply to be acked")
    await slack.edit_message(channel=GROUP_DM, user="U0BOB", ts=chat, text="status of web?")
    await slack.edit_message(channel=GROUP_DM, user=ALICE, ts=reply, text="status of db")
    await until(lambda: all(d.acked for d in slack.deliveries(type="events_api")), what="all acked")
    await bot.engine.idle()
    assert _said(slack, GROUP_DM, chat) == []
    key = ThreadKey(team="T0LOCAL", channel=GROUP_DM, thread_ts=chat)
    assert not ThreadDir(Home(settings.home), key).path.exists()
