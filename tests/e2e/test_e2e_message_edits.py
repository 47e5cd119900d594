"""A person edits or deletes a request while it waits for a busy thread, in Slack.

The thread is kept busy by holding its lock (as a long turn does); the person posts a
follow-up, then edits or deletes it from their client (localslack sends Slack's
``message_changed`` / ``message_deleted``); then the thread moves on.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from signoff_e2e_kit import CARD_TITLE, OPS, bot_messages, bot_reply, mention, until

from bot.app import SignoffBot
from bot.config import Settings
from localslack import LocalSlack
from sessions import Home, ThreadDir, ThreadKey, coordination_for


async def _busy_thread(slack: LocalSlack) -> str:
    thread = await mention(slack, "status of db")
    await bot_reply(slack, thread, "service=db")
    return thread


@contextlib.asynccontextmanager
async def _waiting_request(
    slack: LocalSlack, settings: Settings, thread: str
) -> AsyncIterator[tuple[str, Path]]:
    """Alice asks "restart api" while the thread is busy: (its ts, its file in the inbox),
    the thread kept busy until the block ends."""
    key = ThreadKey(team="T0LOCAL", channel=OPS, thread_ts=thread)
    async with coordination_for(Home(settings.home)).thread_locks.hold(key):
        ts = await slack.post_message(channel=OPS, user="U0ALICE", text="restart api",
                                      thread_ts=thread)  # fmt: skip
        waiting = ThreadDir(Home(settings.home), key).inbox.new / ts
        await until(waiting.exists, what="the request to wait in the inbox")
        yield ts, waiting


async def test_a_request_deleted_while_it_waits_is_never_carried_out(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    thread = await _busy_thread(slack)
    async with _waiting_request(slack, settings, thread) as (ts, waiting):
        await slack.delete_message(channel=OPS, user="U0ALICE", ts=ts)
        await until(lambda: not waiting.exists(), what="the deleted request to be withdrawn")
    # The thread moves on: its next message is answered, the deleted one never was.
    await slack.post_message(channel=OPS, user="U0ALICE", text="status of web", thread_ts=thread)
    await bot_reply(slack, thread, "service=web")
    await bot.engine.idle()
    assert bot_messages(slack, thread, CARD_TITLE) == []
    said = [m.get("text", "") for m in bot_messages(slack, thread)]
    assert len(said) == 2 and "service=db" in said[0] and "service=web" in said[1], said


async def test_an_edit_while_it_waits_is_what_signoff_answers(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    thread = await _busy_thread(slack)
    async with _waiting_request(slack, settings, thread) as (ts, waiting):
        await slack.edit_message(channel=OPS, user="U0ALICE", ts=ts, text="status of web")
        await until(lambda: b"status of web" in waiting.read_bytes(), what="the edit to land")
    await bot_reply(slack, thread, "service=web")
    await bot.engine.idle()
    assert bot_messages(slack, thread, CARD_TITLE) == []


async def test_an_edit_after_the_answer_changes_nothing(slack: LocalSlack, bot: SignoffBot) -> None:
    thread = await _busy_thread(slack)
    before = len(bot_messages(slack, thread))
    await slack.edit_message(
        channel=OPS, user="U0ALICE", ts=thread, text="<@U0SIGNOFF> restart api"
    )
    await slack.post_message(channel=OPS, user="U0ALICE", text="status of web", thread_ts=thread)
    await bot_reply(slack, thread, "service=web")
    await bot.engine.idle()
    assert len(bot_messages(slack, thread)) == before + 1
    assert bot_messages(slack, thread, CARD_TITLE) == []
