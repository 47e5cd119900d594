"""A first mention edited to ask signoff nothing, then edited to ask it again, in Slack.

An edit that takes the mention out of a thread's first message withdraws it while it
waits. The person may put the mention back: their latest text asks signoff, and is what
it answers. A deletion stays final, and an edit's date decides, whatever order Slack
delivers them in (it retries an event whose ack it did not hear, late): an older edit
that asked, delivered after a newer one that took the mention out (or after the
deletion), brings nothing back.
"""

from __future__ import annotations

from typing import Any

import pytest
from signoff_e2e_kit import (
    BOT_USER,
    OPS,
    answered_deliveries,
    bot_messages,
    bot_reply,
    send_ops_event,
    until,
)

from bot.app import SignoffBot
from bot.config import Settings
from localslack import LocalSlack
from sessions import Home, ThreadDir, ThreadKey, coordination_for

ALICE = "U0ALICE"
ASKS, BACK = f"<@{BOT_USER}> restart api", f"<@{BOT_USER}> status of web"
# Dates of Alice's edits, in the order she made them.
OUT_1, BACK_2, OUT_3 = "1900000001.000000", "1900000002.000000", "1900000003.000000"


def _shown(ts: str, text: str, edited: str = "") -> dict[str, Any]:
    message: dict[str, Any] = {"type": "message", "user": ALICE, "text": text, "ts": ts}
    message["thread_ts"] = ts  # as Slack shows a thread's first message
    if edited:
        message["edited"] = {"user": ALICE, "ts": edited}
    return message


def _edit(ts: str, edited: str) -> dict[str, Any]:
    text = BACK if edited == BACK_2 else "restart api"
    return {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "message": _shown(ts, text, edited),
        "previous_message": _shown(ts, ASKS),
        "ts": edited,
        "event_ts": edited,
    }


def _deletion(ts: str) -> dict[str, Any]:
    return {
        "type": "message",
        "subtype": "message_deleted",
        "hidden": True,
        "deleted_ts": ts,
        "previous_message": _shown(ts, BACK, BACK_2),
        "ts": "1900000004.000000",
        "event_ts": "1900000004.000000",
    }


async def _asked_then(slack: LocalSlack, settings: Settings, changes: list[str]) -> str:
    """Alice's first mention waits (its thread busy) while ``changes`` come, in that
    order: an edit's date, or "deleted"; then the thread moves on. Its ts."""
    first = await slack.post_message(channel=OPS, user=ALICE, text="hello")
    await until(lambda: answered_deliveries(slack, first), what="hello to be acked")
    key = ThreadKey(team="T0LOCAL", channel=OPS, thread_ts=first)
    async with coordination_for(Home(settings.home)).thread_locks.hold(key):
        mentioned = {"type": "app_mention", "user": ALICE, "text": ASKS, "ts": first}
        await send_ops_event(slack, mentioned, "Evmention")
        for n, change in enumerate(changes):
            event = _deletion(first) if change == "deleted" else _edit(first, change)
            await send_ops_event(slack, event, f"Evchange{n}")
            if change == BACK_2:  # Slack's app_mention for an edit that mentions signoff
                back = {**mentioned, "text": BACK, "edited": {"user": ALICE, "ts": BACK_2}}
                await send_ops_event(slack, back, f"Evmentionback{n}")
    return first


async def test_a_mention_taken_out_by_an_edit_and_put_back_by_a_newer_one_is_answered(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    first = await _asked_then(slack, settings, [OUT_1, BACK_2])
    await bot_reply(slack, first, "service=web")
    await bot.engine.idle()
    assert len(bot_messages(slack, first)) == 1


@pytest.mark.parametrize(
    "changes",
    [
        [BACK_2, OUT_3],  # in order: the mention put back, then taken out again
        [OUT_3, BACK_2],  # the same, the older edit delivered late
        [OUT_1, OUT_3, BACK_2],  # taken out twice; the edit between comes last
        [OUT_1, "deleted", BACK_2],  # deleted; an edit made before, delivered late
    ],
    ids=["back_then_out", "late_back", "late_back_between_outs", "late_back_after_delete"],
)
async def test_what_alice_last_took_back_is_never_answered(
    changes: list[str], slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    first = await _asked_then(slack, settings, changes)
    tdir = ThreadDir(Home(settings.home), ThreadKey(team="T0LOCAL", channel=OPS, thread_ts=first))
    await bot.engine.idle()
    assert tdir.inbox.pending() == []
    assert bot_messages(slack, first) == []


async def test_edits_out_and_back_before_the_mention_itself_comes_answer_the_last(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    """Slack keeps no order: both of Alice's edits come before her message (a retry)."""
    first = await slack.post_message(channel=OPS, user=ALICE, text="hello")
    await until(lambda: answered_deliveries(slack, first), what="hello to be acked")
    await send_ops_event(slack, _edit(first, OUT_1), "Evout")
    back = _edit(first, BACK_2)
    back["previous_message"] = _shown(first, "restart api", OUT_1)
    await send_ops_event(slack, back, "Evback")
    mentioned = {"type": "app_mention", "user": ALICE, "text": ASKS, "ts": first}
    await send_ops_event(slack, mentioned, "Evmentionlate")
    await bot_reply(slack, first, "service=web")
    await bot.engine.idle()
    assert len(bot_messages(slack, first)) == 1
