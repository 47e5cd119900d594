"""Mentions, follow-ups, approvals and denials through real Slack clients."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.app import SignoffBot
from bot.cards import APPROVE
from localslack import LocalSlack

OPS = "C0OPS"


async def mention(
    slack: LocalSlack, text: str, *, user: str = "U0ALICE", thread_ts: str | None = None
) -> str:
    return await slack.post_message(
        channel=OPS, user=user, text=f"<@U0SIGNOFF> {text}", thread_ts=thread_ts
    )


async def bot_reply(
    slack: LocalSlack, thread: str, contains: str, timeout: float = 10
) -> dict[str, Any]:
    return await slack.wait_for_message(
        channel=OPS, thread_ts=thread, from_bot=True, text_contains=contains, timeout=timeout
    )


async def card(slack: LocalSlack, thread: str) -> dict[str, Any]:
    return await slack.wait_for_message(
        channel=OPS, thread_ts=thread, from_bot=True, text_contains="Approval needed", timeout=10
    )


async def test_mention_gets_a_reply_in_its_thread_and_follow_up_continues(
    slack: LocalSlack, bot: SignoffBot
) -> None:
    ts = await mention(slack, "status of api")
    reply = await bot_reply(slack, ts, "service_status")
    assert reply["thread_ts"] == ts
    await slack.post_message(channel=OPS, user="U0ALICE", text="status of db", thread_ts=ts)
    second = await bot_reply(slack, ts, "service=db")
    assert second["thread_ts"] == ts
    await bot.engine.idle()
    rows = await bot.engine.rt.index.sessions(channel=OPS)
    assert len(rows) == 2
    assert {r.thread.thread_ts for r in rows} == {ts}


async def test_a_message_in_a_thread_the_bot_is_not_in_is_ignored(
    slack: LocalSlack, bot: SignoffBot
) -> None:
    ts = await slack.post_message(channel=OPS, user="U0ALICE", text="restart api")
    await asyncio.sleep(0.5)
    await bot.engine.idle()
    assert await bot.engine.rt.index.sessions(channel=OPS) == []
    assert not [m for m in slack.thread(channel=OPS, ts=ts) if m.get("bot_id")]


async def test_gated_call_approved_by_an_allowed_user(slack: LocalSlack, bot: SignoffBot) -> None:
    ts = await mention(slack, "restart the api service")
    posted = await card(slack, ts)
    assert posted["blocks"][-1]["type"] == "actions"
    values = {e["value"] for e in posted["blocks"][-1]["elements"]}
    assert len(values) == 1 and next(iter(values)).startswith("appr_")
    await slack.click_button(channel=OPS, ts=posted["ts"], user="U0BOB", action_id=APPROVE)
    done = await bot_reply(slack, ts, "restart_service` finished")
    assert "restarts=1" in done["text"]
    locked = slack.message(channel=OPS, ts=posted["ts"])
    assert locked is not None
    assert all(b["type"] != "actions" for b in locked["blocks"])
    assert any("Approved by <@U0BOB>" in str(b) for b in locked["blocks"])
