"""Delivery when a sent entry's record cannot be written (a full disk), against LocalSlack
through slack_sdk: what went out is not sent again, whatever its kind (a notice is
ephemeral: Slack cannot be asked whether it landed), and a Retry-After Slack asked for in
the same pass still stands."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from engine_support import disk_full_once
from slack_sdk.web.async_client import AsyncWebClient

from agent_core.delivery import Delivery
from bot.slack_surface import SlackSurface
from localslack import LocalSlack
from sessions import Home, Outbox, OutboxEntry, ThreadKey, coordination_for, utc_iso

OPS = "C0OPS"
SESSION = "sess_0123456789ab"


async def asked(slack: LocalSlack) -> ThreadKey:
    ts = await slack.post_message(channel=OPS, user="U0ALICE", text="<@U0SIGNOFF> how is it?")
    return ThreadKey(team="T0LOCAL", channel=OPS, thread_ts=ts)


def entry(thread: ThreadKey, key: str, kind: str, text: str) -> OutboxEntry:
    return OutboxEntry.model_validate(
        {
            "id": f"{kind}-{SESSION}-{key}",
            "kind": kind,
            "thread": thread,
            "created_at": utc_iso(datetime(2026, 11, 2, tzinfo=UTC)),
            "seq": Outbox.next_seq(),
            "text": text,
            "session_id": SESSION,
            "user": "U0ALICE" if kind == "notice" else "",
        }
    )


async def until(condition: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def drained(delivery: Delivery, home: Home, wait: Callable[[], Awaitable[None]]) -> None:
    await wait()
    await until(lambda: coordination_for(home).outbox.pending() == [])
    await asyncio.wait_for(delivery.idle(), timeout=10)


async def test_a_notice_whose_record_failed_is_not_shown_twice(
    slack: LocalSlack, home: Home
) -> None:
    web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    thread = await asked(slack)
    refused = disk_full_once(coordination_for(home).outbox)
    coordination_for(home).outbox.enqueue(entry(thread, "n1", "notice", "only you see this"))
    delivery = Delivery(home=home, surface=SlackSurface(web), poll=0.05)
    delivery.start()
    try:
        await drained(delivery, home, lambda: until(lambda: bool(refused)))
    finally:
        await delivery.stop()
    notes = slack.ephemeral_messages(user="U0ALICE", channel=OPS)
    assert [n["text"] for n in notes] == ["only you see this"]
    assert len(slack.calls("chat.postEphemeral")) == 1


async def test_a_retry_after_asked_for_in_a_pass_whose_record_failed_stands(
    slack: LocalSlack, home: Home
) -> None:
    """A thread's notice goes out, its reply is refused with a 429 (Retry-After 2 s), and
    the notice's record cannot be written: the reply waits the 2 s Slack asked for."""
    web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    thread = await asked(slack)
    refused = disk_full_once(coordination_for(home).outbox)
    outbox = coordination_for(home).outbox
    outbox.enqueue(entry(thread, "n1", "notice", "only you see this"))
    outbox.enqueue(entry(thread, "m1", "reply", "All is well."))
    slack.inject_fault(method="chat.postMessage", status=429, retry_after=2)
    delivery = Delivery(home=home, surface=SlackSurface(web), poll=0.05)
    delivery.start()
    try:
        await until(lambda: len(slack.calls("chat.postMessage")) == 2)
    finally:
        await delivery.stop()
    assert refused == [1]
    refused_at, posted_at = (c.at for c in slack.calls("chat.postMessage"))
    assert posted_at - refused_at >= 2.0
