"""A reply too long for a few messages, for an app that may not upload files, against
LocalSlack through slack_sdk.

Such a reply is posted as a start, "… (the full answer is attached)", with the whole
answer uploaded as a file. Without ``files:write`` (Slack answers ``missing_scope``), or
with uploads refused for the token or by the workspace (``not_allowed_token_type``,
``restricted_action``), the upload was taken for a passing error of the app's and tried
again for ever: the thread's later replies and cards waited behind it, and the start in
the thread promised an attachment that never came. Now the answer is posted whole,
split into messages, the start becoming its first; the process remembers (one warning)
and posts the next long answer that way at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from test_delivery_unrecorded import asked, entry, until

from agent_core.backoff import Backoff
from agent_core.delivery import Delivery
from agent_core.surface import DeliveryError
from bot.live_streams import LiveStreams
from bot.reply_parts import MAX_PARTS, split_message
from bot.slack_surface import SlackSurface
from localslack import LocalSlack, WorkspaceConfig
from localslack.config import DEFAULT_SCOPES
from sessions import Home, ThreadKey, coordination_for

UPLOAD = "files.getUploadURLExternal"
PARAGRAPH = " ".join(["abcdefghij" * 5] * 6)


def long_answer(paragraphs: int = 60) -> str:
    return "Start.\n\n" + "\n\n".join(f"p{i}: {PARAGRAPH}" for i in range(paragraphs))


@pytest.fixture
async def no_files() -> AsyncIterator[LocalSlack]:
    """An app installed without files:write."""
    scopes = tuple(s for s in DEFAULT_SCOPES if s != "files:write")
    async with LocalSlack(WorkspaceConfig(seed=3, scopes=scopes)) as server:
        yield server


def texts(slack: LocalSlack, thread: ThreadKey) -> list[str]:
    return [
        str(m.get("text", ""))
        for m in slack.thread(channel=thread.channel, ts=thread.thread_ts)
        if m.get("bot_id") and m["ts"] != thread.thread_ts
    ]


def gave_notice(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and "the file upload" in r.getMessage()
    ]


async def deliver(
    slack: LocalSlack,
    home: Home,
    surface: SlackSurface,
    text: str,
    key: str,
    *,
    backoff: Backoff | None = None,
) -> ThreadKey:
    thread = await asked(slack)
    outbox = coordination_for(home).outbox
    delivery = Delivery(home=home, surface=surface, poll=0.05, backoff=backoff)
    delivery.start()
    try:
        # Queued once delivery runs: what it finds at start it looks for in Slack first.
        await asyncio.wait_for(delivery.idle(), timeout=10)
        outbox.enqueue(entry(thread, key, "reply", text))
        delivery.wake()
        await until(lambda: outbox.pending() == [])
        await asyncio.wait_for(delivery.idle(), timeout=10)
    finally:
        await delivery.stop()
    return thread


async def test_without_files_write_a_long_reply_is_posted_whole_split_into_messages(
    no_files: LocalSlack, home: Home, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    slack = no_files
    web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    surface = SlackSurface(web, streams=LiveStreams(web, home=home))
    answer = long_answer()
    parts = split_message(answer)
    assert len(parts) > MAX_PARTS  # long enough to be attached, were files allowed
    thread = await deliver(slack, home, surface, answer, "m1")
    assert texts(slack, thread) == parts  # each part once, in order, the start first
    assert not any("attached" in t for t in texts(slack, thread))
    assert slack.files() == []
    assert [c.error for c in slack.calls(UPLOAD)] == ["missing_scope"]  # asked once
    done = coordination_for(home).outbox.done(thread, "reply-sess_0123456789ab-m1")
    assert done is not None and done.outcome == "sent"
    assert len(gave_notice(caplog)) == 1

    # The process remembers: the next long answer is split at once, without asking.
    later = await deliver(slack, home, surface, long_answer(40), "m2")
    assert texts(slack, later) == split_message(long_answer(40))
    assert len(slack.calls(UPLOAD)) == 1 and len(gave_notice(caplog)) == 1


@pytest.mark.parametrize("error", ["restricted_action", "not_allowed_token_type"])
async def test_uploads_refused_for_the_token_or_by_the_workspace_fall_back_the_same(
    slack: LocalSlack, home: Home, error: str
) -> None:
    slack.inject_fault(method=UPLOAD, error=error, count=None)
    web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    answer = long_answer()
    thread = await deliver(slack, home, SlackSurface(web), answer, "m1")
    assert texts(slack, thread) == split_message(answer)
    assert [c.error for c in slack.calls(UPLOAD)] == [error]


async def test_a_start_posted_before_a_restart_becomes_the_first_part(
    slack: LocalSlack, home: Home
) -> None:
    """The start went out, then the process died before its upload; the next one learns
    uploads are refused: the start already in the thread is made the answer's first part
    (it promised an attachment), and only the rest is posted."""
    web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    thread = await asked(slack)
    answer = long_answer()
    reply = entry(thread, "m1", "reply", answer)
    slack.inject_fault(method=UPLOAD, status=500, error="internal_error")
    with pytest.raises(DeliveryError):
        await SlackSurface(web).post_reply(reply, check_first=False)
    (start,) = texts(slack, thread)
    assert start.endswith("(the full answer is attached)")

    slack.inject_fault(method=UPLOAD, error="missing_scope", count=None)
    delivered = await SlackSurface(web).post_reply(reply, check_first=True)
    assert texts(slack, thread) == split_message(answer)
    first = slack.thread(channel=thread.channel, ts=thread.thread_ts)[1]
    assert delivered.ts == first["ts"] and not delivered.adopted
    assert first["metadata"]["event_payload"] == {"entry": reply.id, "part": 0}

    # Asked again (an answer lost on the way), nothing changes.
    again = await SlackSurface(web).post_reply(reply, check_first=True)
    assert again.adopted and texts(slack, thread) == split_message(answer)
