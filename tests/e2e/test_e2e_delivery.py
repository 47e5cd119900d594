"""Slack's delivery quirks against the real bot: redelivered envelopes, a mention's
``message``/``app_mention`` twins, 429s and dropped sockets. The invariant (I3) is counted
per user message: each one gets exactly one answer, however often it was delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any

import pytest
from engine_support import disk_full_once
from signoff_e2e_kit import (
    OPS,
    answered_deliveries,
    bot_messages,
    bot_reply,
    deliveries_of,
    inbox_waiting,
    mention,
    quick_acks,
    session_states,
    until,
)

from bot.app import SignoffBot
from bot.config import Settings
from bot.envelopes import Outcome
from localslack import Delivery, LocalSlack

if TYPE_CHECKING:
    from conftest import BotFactory


def status_answers(slack: LocalSlack, thread: str, service: str) -> list[dict[str, Any]]:
    return bot_messages(slack, thread, f"service={service},")


def hold_acks(bot: SignoffBot, *, kind: str, times: int) -> list[str]:
    """Hold back the bot's acks of the first ``times`` envelopes of ``kind`` events: each is
    stored, but its ack leaves only once a later delivery was acked in time (a slow disk, a
    GC pause), so the fake times out and redelivers each one. Returns the held event ids."""
    original = bot.ingest.handle
    held: list[str] = []
    released = asyncio.Event()

    async def handle(payload: Any) -> Outcome:
        outcome = await original(payload)
        if payload.get("event", {}).get("type") != kind:
            return outcome
        if len(held) < times:
            held.append(str(payload.get("event_id")))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(released.wait(), timeout=10)
        else:
            asyncio.get_running_loop().call_later(0.05, released.set)
        return outcome

    bot.ingest.handle = handle  # type: ignore[method-assign]
    return held


@quick_acks
@pytest.mark.parametrize("redeliveries", [1, 2, 3])
async def test_redelivered_mention_is_answered_once(
    slack: LocalSlack, settings: Settings, start_bot: BotFactory, redeliveries: int
) -> None:
    bot: SignoffBot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    held = hold_acks(bot, kind="app_mention", times=redeliveries)
    thread = await mention(slack, "status of api")
    await bot_reply(slack, thread, "service=api,")

    def attempts() -> list[Delivery]:
        return [d for d in slack.deliveries(type="events_api") if d.kind == "app_mention"]

    # Slack tried again after each missing ack, until an ack came in time; the held acks
    # arrived late, after that.
    await until(lambda: len(attempts()) == redeliveries + 1 and all(d.acked for d in attempts()))
    tries = attempts()
    assert [d.retry_attempt for d in tries] == list(range(redeliveries + 1))
    assert {d.event_id for d in tries} == {held[0]} == set(held)
    assert all(d.timed_out and d.late_ack for d in tries[:-1])
    assert not tries[-1].timed_out and not tries[-1].late_ack
    await until(lambda: answered_deliveries(slack, thread), what="the message twin acked too")
    await bot.engine.idle()
    assert len(status_answers(slack, thread, "api")) == 1
    assert len(session_states(settings.home)) == 1
    assert inbox_waiting(settings.home) == []


@quick_acks
async def test_event_the_bot_failed_to_store_is_stored_when_redelivered(
    slack: LocalSlack, settings: Settings, start_bot: BotFactory
) -> None:
    """I3 from the other side: an envelope left unacked because storing failed must be
    stored (and answered) when Slack delivers it again."""
    bot: SignoffBot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    # The in-process ingest raises for the first delivery only, before the inbox write.
    original = bot.engine.ingest
    failures: list[str] = []

    async def ingest_once_failing(message: Any) -> bool:
        if not failures:
            failures.append(message.ts)
            raise OSError(28, "No space left on device")
        return await original(message)

    bot.engine.ingest = ingest_once_failing  # type: ignore[method-assign]
    thread = await mention(slack, "status of web")
    first = await slack.wait_for_delivery(lambda d: d.retry_attempt == 0 and d.timed_out)
    assert first.payload["event"]["ts"] == thread and not first.acked
    retry = await slack.wait_for_delivery(lambda d: d.retry_attempt == 1 and d.acked)
    assert retry.event_id == first.event_id
    assert failures == [thread]
    await bot_reply(slack, thread, "service=web,", timeout=2)


@quick_acks
async def test_restarted_bot_dedupes_a_redelivery_of_a_message_it_already_stored(
    slack: LocalSlack, settings: Settings, start_bot: BotFactory
) -> None:
    """The ack is lost with the process: the next process gets the envelope again and
    must find the message already on disk (no in-memory dedupe survives a restart)."""
    first: SignoffBot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    # Its acks never leave: stored, then stuck until the process is gone.
    hold_acks(first, kind="app_mention", times=10)
    thread = await mention(slack, "status of worker")
    await bot_reply(slack, thread, "service=worker,")
    await first.engine.idle()
    # Its held ack outlasts any grace: 1 s of it, not 5, before the process is gone.
    await first.stop(grace=1)
    second: SignoffBot = await start_bot()
    redelivered = await slack.wait_for_delivery(
        lambda d: d.retry_attempt > 0 and d.acked and d.payload["event"].get("ts") == thread,
        timeout=10,
    )
    assert redelivered.socket_id != deliveries_of(slack, thread)[0].socket_id
    await until(lambda: answered_deliveries(slack, thread), what="every copy acked")
    await second.engine.idle()
    assert len(status_answers(slack, thread, "worker")) == 1
    assert list(session_states(settings.home).values()) == ["completed"]


async def test_mention_in_a_thread_arrives_twice_and_is_answered_once(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    thread = await mention(slack, "status of api")
    await bot_reply(slack, thread, "service=api,")
    asked = {"api": thread}
    for service in ("web", "worker", "db"):
        ts = await mention(slack, f"status of {service}", thread_ts=thread)
        asked[service] = ts
        await bot_reply(slack, thread, f"service={service},")
        # Slack sent this one as both `message` and `app_mention`, with different event ids.
        twins = deliveries_of(slack, ts)
        assert sorted(d.kind for d in twins) == ["app_mention", "message"]
        assert len({d.event_id for d in twins}) == 2
    # A plain follow-up (no mention) arrives once, as `message`.
    plain = await slack.post_message(
        channel=OPS, user="U0BOB", text="status of api please", thread_ts=thread
    )
    await until(lambda: len(status_answers(slack, thread, "api")) == 2, what="the follow-up")
    assert [d.kind for d in deliveries_of(slack, plain)] == ["message"]
    await bot.engine.idle()
    # Every envelope (the bot's own echoes too) was acked.
    await until(lambda: all(d.acked for d in slack.deliveries(type="events_api")))
    assert {s: len(status_answers(slack, thread, s)) for s in asked} == {
        "api": 2,
        "web": 1,
        "worker": 1,
        "db": 1,
    }
    assert len(session_states(settings.home)) == 5


async def test_rate_limited_replies_are_retried_and_nothing_is_lost(
    slack: LocalSlack, bot: SignoffBot
) -> None:
    fault = slack.inject_fault(method="chat.postMessage", status=429, retry_after=1, count=2)
    started = time.monotonic()
    thread = await mention(slack, "status of db")
    reply = await bot_reply(slack, thread, "service=db,", timeout=10)
    assert time.monotonic() - started >= 1.5  # Retry-After was honoured, twice
    assert fault.remaining == 0
    posts = slack.calls("chat.postMessage")
    assert [(c.status, c.error) for c in posts[:2]] == [(429, "ratelimited")] * 2
    assert posts[2].ok and posts[2].args["text"] == reply["text"]
    # Later replies are not disturbed either.
    await slack.post_message(channel=OPS, user="U0ALICE", text="status of web", thread_ts=thread)
    await bot_reply(slack, thread, "service=web,")
    await bot.engine.idle()
    assert len(bot_messages(slack, thread, "service=db,")) == 1
    assert len(bot_messages(slack, thread, "service=web,")) == 1


@pytest.mark.parametrize("when", ["envelope_in_flight", "model_turn_running"])
async def test_socket_dropped_mid_turn_reconnects_and_answers_once(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, when: str
) -> None:
    bot: SignoffBot = await start_bot(ping_interval=1)
    await slack.wait_for_sockets(1, timeout=5)
    dropped: list[str] = []
    if when == "model_turn_running":
        # The network dies while the model is thinking: the message is stored and acked.
        model = bot.engine.rt.model
        think = model.complete

        async def complete(**kwargs: Any) -> Any:
            if not dropped:
                dropped.extend(slack.drop_sockets())
            return await think(**kwargs)

        model.complete = complete  # type: ignore[method-assign]
        thread = await mention(slack, "status of api")
    else:
        # The envelopes were written to the socket, which dies before the bot reads them.
        thread = await mention(slack, "status of api")
        dropped.extend(slack.drop_sockets())
    await slack.wait_for_connections(2, timeout=15)
    await bot_reply(slack, thread, "service=api,")
    assert dropped == ["socket-1"]
    # Whatever was lost on the dead socket was delivered again and deduplicated.
    await until(lambda: answered_deliveries(slack, thread), what="every copy acked")
    tries = deliveries_of(slack, thread)
    if when == "envelope_in_flight":
        assert any(d.retry_attempt == 1 and d.socket_id == "socket-2" for d in tries)
    # The new connection carries the next message.
    await slack.post_message(channel=OPS, user="U0BOB", text="status of db", thread_ts=thread)
    await bot_reply(slack, thread, "service=db,")
    await bot.engine.idle()
    assert len(status_answers(slack, thread, "api")) == 1
    assert len(status_answers(slack, thread, "db")) == 1
    assert len(session_states(settings.home)) == 2
    assert inbox_waiting(settings.home) == []


async def test_message_posted_while_the_socket_is_down_is_answered_after_reconnecting(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings
) -> None:
    bot: SignoffBot = await start_bot(ping_interval=1)
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "status of api")
    await bot_reply(slack, thread, "service=api,")
    assert slack.drop_sockets()
    follow_up = await slack.post_message(
        channel=OPS, user="U0ALICE", text="status of worker", thread_ts=thread
    )
    waiting = deliveries_of(slack, follow_up)
    assert [d.status for d in waiting] == ["queued"]  # nobody was connected
    await slack.wait_for_connections(2, timeout=15)
    await bot_reply(slack, thread, "service=worker,")
    await bot.engine.idle()
    assert [d.status for d in deliveries_of(slack, follow_up)] == ["acked"]
    assert len(status_answers(slack, thread, "worker")) == 1
    assert len(status_answers(slack, thread, "api")) == 1


async def test_a_thread_whose_sent_reply_could_not_be_recorded_is_still_delivered_to(
    slack: LocalSlack, bot: SignoffBot
) -> None:
    """A full disk when a sent reply's record is written: the reply is not posted twice (the
    thread's next pass writes its record instead of sending it again) and the thread's
    later replies still go out."""
    delivery = bot.engine.delivery
    assert delivery is not None
    outbox = delivery.outbox
    failed = disk_full_once(outbox)
    thread = await mention(slack, "status of api")
    await bot_reply(slack, thread, "service=api,")
    await until(lambda: bool(failed))
    await slack.post_message(channel=OPS, user="U0ALICE", text="status of db", thread_ts=thread)
    await bot_reply(slack, thread, "service=db,")
    await asyncio.wait_for(bot.engine.idle(), timeout=10)
    assert len(status_answers(slack, thread, "api")) == 1
    assert len(status_answers(slack, thread, "db")) == 1
    assert outbox.pending() == []
