"""A gated call asked in a direct message, whose card is in the approvals channel, through
the real Bolt app: the direct message's thread keeps saying it waits, and what is meant
for the approvers reaches them where the card is, not in a conversation they are not in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import FAST
from signoff_e2e_kit import as_in_manifest, until, write_policy

from bot.app import SignoffBot
from localslack import LocalSlack, WorkspaceConfig
from sessions import FixedClock

if TYPE_CHECKING:
    from conftest import BotFactory

DM = "D0ALICE"
APPROVALS = "C0OPS"
POLICY = """
[tools.restart_service]
approvers = ["U0BOB"]
remind_after = "2h"
max_reminders = 2
expires_after = "2d"
"""


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    async with LocalSlack(as_in_manifest(WorkspaceConfig(seed=13, timing=FAST))) as server:
        yield server


def top_level_cards(slack: LocalSlack) -> list[dict[str, Any]]:
    return [
        m
        for m in slack.messages(channel=APPROVALS)
        if m.get("bot_id") and "Approval needed" in str(m.get("blocks"))
    ]


async def asked_in_a_dm(slack: LocalSlack, bot: SignoffBot) -> tuple[str, dict[str, Any]]:
    ts = await slack.post_message(channel=DM, user="U0ALICE", text="restart api")
    [card] = await until(lambda: top_level_cards(slack), what="the card")
    await slack.wait_for_message(channel=DM, thread_ts=ts, from_bot=True, text_contains="I asked")
    await bot.engine.idle()
    assert bot.live is not None
    await bot.live.settle()
    return ts, card


async def test_the_direct_message_still_shows_it_waits_after_the_pointer(
    slack: LocalSlack, start_bot: BotFactory
) -> None:
    bot = await start_bot(approvals_channel=APPROVALS)
    await slack.wait_for_sockets(1, timeout=5)
    # The card's first post fails (a 500 that did not land): it goes out on the retry, after
    # the thread was told it waits — and the pointer it posts in the DM clears that line.
    slack.inject_fault(method="chat.postMessage", error="internal_error", status=500)
    ts, _ = await asked_in_a_dm(slack, bot)
    status = slack.thread_status(channel=DM, thread_ts=ts)
    assert status is not None and status["status"] == "is waiting for approval"


async def test_a_reminder_reaches_the_approvers_in_the_cards_thread(
    slack: LocalSlack, start_bot: BotFactory, e2e_clock: FixedClock, tmp_path: Path
) -> None:
    policy = write_policy(tmp_path / "policy.toml", POLICY)
    bot = await start_bot(approvals_channel=APPROVALS, policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    ts, card = await asked_in_a_dm(slack, bot)
    e2e_clock.advance(timedelta(hours=2, minutes=1))
    await bot.engine.sweep()
    await bot.engine.idle()

    def reminders(channel: str, thread: str) -> list[str]:
        texts = [str(m.get("text")) for m in slack.thread(channel=channel, ts=thread)]
        return [t for t in texts if t.startswith("⏰ Reminder")]

    # Bob is not in Alice's direct message with signoff: a ping there never reaches him,
    # and there is no "card above" in it. The card's own thread is where he is.
    await until(lambda: reminders(APPROVALS, card["ts"]), what="the reminder by the card")
    assert reminders(DM, ts) == []
