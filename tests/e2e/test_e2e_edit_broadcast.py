"""A follow-up also sent to the channel (``thread_broadcast``) is edited or deleted while
it waits, in Slack.

Slack's ``message_changed`` and ``message_deleted`` of such a reply carry its subtype,
``thread_broadcast``, and its ``thread_ts``: it is the thread's follow-up, and the edit
or the deletion reaches it there as any reply's would.
"""

from __future__ import annotations

from typing import Any

import pytest
from signoff_e2e_kit import (
    CARD_TITLE,
    OPS,
    bot_messages,
    bot_reply,
    mention,
    send_ops_event,
    until,
)

from bot.app import SignoffBot
from bot.config import Settings
from localslack import LocalSlack
from sessions import Home, ThreadDir, ThreadKey, coordination_for

ALICE = "U0ALICE"
FOLLOW_UP = "1900000000.000200"
EDITED = "1900000001.000000"


def _broadcast(thread: str, text: str, *, edited: str = "") -> dict[str, Any]:
    message: dict[str, Any] = {
        "type": "message",
        "subtype": "thread_broadcast",
        "user": ALICE,
        "text": text,
        "ts": FOLLOW_UP,
        "thread_ts": thread,
    }
    if edited:
        message["edited"] = {"user": ALICE, "ts": edited}
    return message


@pytest.mark.parametrize("change", ["message_changed", "message_deleted"])
async def test_a_waiting_broadcast_reply_edited_or_deleted(
    change: str, slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    thread = await mention(slack, "status of db")
    await bot_reply(slack, thread, "service=db")
    await bot.engine.idle()
    key = ThreadKey(team="T0LOCAL", channel=OPS, thread_ts=thread)
    inbox = ThreadDir(Home(settings.home), key).inbox
    async with coordination_for(Home(settings.home)).thread_locks.hold(key):
        await send_ops_event(slack, _broadcast(thread, "restart api"), "Evbroadcast")
        await until((inbox.new / FOLLOW_UP).exists, what="the broadcast reply to wait")
        event: dict[str, Any] = {
            "type": "message",
            "subtype": change,
            "hidden": True,
            "previous_message": _broadcast(thread, "restart api"),
            "ts": EDITED,
            "event_ts": EDITED,
        }
        if change == "message_changed":
            event["message"] = _broadcast(thread, "status of web", edited=EDITED)
        else:
            event["deleted_ts"] = FOLLOW_UP
        await send_ops_event(slack, event, "Evchange")
        said = [m.text for m in inbox.pending()]
        assert said == (["status of web"] if change == "message_changed" else [])
    if change == "message_changed":
        await bot_reply(slack, thread, "service=web")
    await bot.engine.idle()
    assert bot_messages(slack, thread, CARD_TITLE) == []
    assert len(bot_messages(slack, thread)) == (2 if change == "message_changed" else 1)
