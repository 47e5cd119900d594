"""The stream journal and delivery's side of streaming, against LocalSlack through slack_sdk:
what a restart does with each kind of stream a dead process left, and how a live stream is
finalized (in one call when it can be) with its mentions held back until they are whole."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from agent_core.live import LiveTurn, ToolStep
from agent_core.surface import DeliveryError
from bot.live_streams import LiveStreams
from bot.reply_stream import SlackReplyStream
from bot.slack_surface import SlackSurface
from bot.stream_journal import StreamRecord, StreamTask
from localslack import LocalSlack
from sessions import FixedClock, Home, Outbox, OutboxDone, OutboxEntry, ThreadKey, utc_iso

OPS = "C0OPS"
SESSION = "sess_0123456789ab"
TEXT = "All four services are healthy and nothing needs doing today, <@U0BOB>."


@pytest.fixture
def web(slack: LocalSlack) -> AsyncWebClient:
    return AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)


async def asked(slack: LocalSlack) -> ThreadKey:
    ts = await slack.post_message(channel=OPS, user="U0ALICE", text="<@U0SIGNOFF> how is it?")
    return ThreadKey(team="T0LOCAL", channel=OPS, thread_ts=ts)


def entry(thread: ThreadKey, key: str = "m1", text: str = TEXT) -> OutboxEntry:
    return OutboxEntry(
        id=f"reply-{SESSION}-{key}",
        kind="reply",
        thread=thread,
        created_at=utc_iso(datetime(2026, 11, 2, tzinfo=UTC)),
        seq=Outbox.next_seq(),
        text=text,
        session_id=SESSION,
        mentions=("U0BOB",),
    )


async def dead_stream(
    web: AsyncWebClient, streams: LiveStreams, thread: ThreadKey, entry_id: str, text: str
) -> StreamRecord:
    """A stream a process started and left, as its journal shows it."""
    started = await web.chat_startStream(
        channel=OPS,
        thread_ts=thread.thread_ts,
        markdown_text=text,
        recipient_user_id="U0ALICE",
        recipient_team_id="T0LOCAL",
    )
    record = StreamRecord(
        entry_id=entry_id,
        thread=thread,
        session_id=SESSION,
        ts=str(started["ts"]),
        started_at="2026-11-02T09:00:00.000Z",
        owner="a-dead-process",
    )
    streams.journal.put(record)
    return record


async def reply_after_a_dead_stream(
    slack: LocalSlack, web: AsyncWebClient, home: Home
) -> tuple[LiveStreams, SlackSurface, ThreadKey, OutboxEntry, StreamRecord]:
    """A reply waiting to be delivered, whose start a dead process streamed."""
    streams = LiveStreams(web, home=home)
    surface = SlackSurface(web, streams=streams)
    thread = await asked(slack)
    reply = entry(thread)
    Outbox(home).enqueue(reply)
    record = await dead_stream(web, streams, thread, reply.id, "All four services are")
    return streams, surface, thread, reply, record


async def test_a_restart_deletes_a_stream_whose_reply_never_came(
    slack: LocalSlack, web: AsyncWebClient, home: Home
) -> None:
    streams = LiveStreams(web, home=home)
    thread = await asked(slack)
    record = await dead_stream(web, streams, thread, f"reply-{SESSION}-m1", "Half an ans")
    assert await streams.sweep() == 1
    assert slack.message(channel=OPS, ts=record.ts) is None
    assert streams.journal.all() == []


async def test_a_pending_reply_finalizes_the_stream_a_dead_process_left(
    slack: LocalSlack, web: AsyncWebClient, home: Home
) -> None:
    streams, surface, thread, reply, record = await reply_after_a_dead_stream(slack, web, home)
    assert await streams.sweep() == 0  # left for the reply's delivery

    delivered = await surface.post_reply(reply, check_first=True)
    assert (delivered.ts, delivered.adopted) == (record.ts, False)
    [message] = [m for m in slack.thread(channel=OPS, ts=thread.thread_ts) if m.get("bot_id")]
    assert message["text"] == TEXT  # the mention of a person the thread knows stays one
    assert message["metadata"]["event_payload"] == {"entry": reply.id, "part": 0}
    assert streams.journal.all() == []
    # Delivered again after a lost answer: adopted, nothing new.
    again = await surface.post_reply(reply, check_first=True)
    assert (again.ts, again.adopted) == (record.ts, True)
    assert len([m for m in slack.thread(channel=OPS, ts=thread.thread_ts) if m.get("bot_id")]) == 1


async def test_a_stream_that_already_became_its_reply_is_only_forgotten(
    slack: LocalSlack, web: AsyncWebClient, home: Home
) -> None:
    streams = LiveStreams(web, home=home)
    thread = await asked(slack)
    reply = entry(thread)
    record = await dead_stream(web, streams, thread, reply.id, TEXT)
    Outbox(home).enqueue(reply)
    done = OutboxDone(
        id=reply.id, entry=reply, at=reply.created_at, outcome="sent", channel=OPS, ts=record.ts
    )
    Outbox(home).complete([done])
    assert await streams.sweep() == 0
    assert streams.journal.all() == []
    assert slack.message(channel=OPS, ts=record.ts) is not None


async def test_a_start_whose_answer_was_lost_is_found_in_the_thread(
    slack: LocalSlack, web: AsyncWebClient, home: Home
) -> None:
    streams = LiveStreams(web, home=home)
    thread = await asked(slack)
    kept = await web.chat_postMessage(
        channel=OPS,
        thread_ts=thread.thread_ts,
        text="an earlier reply",
        metadata={"event_type": "signoff_outbox", "event_payload": {"entry": "reply-x-m1"}},
    )
    lost = await dead_stream(web, streams, thread, f"reply-{SESSION}-m3", "Half")
    streams.journal.put(lost.model_copy(update={"ts": ""}))  # its ts never came back
    assert await streams.sweep() == 1
    assert slack.message(channel=OPS, ts=lost.ts) is None
    assert slack.message(channel=OPS, ts=str(kept["ts"])) is not None


async def test_a_live_stream_is_finalized_in_one_call_with_its_mention_held_back(
    slack: LocalSlack, web: AsyncWebClient, home: Home
) -> None:
    streams = LiveStreams(web, home=home, interval=0.0, clock=FixedClock(datetime.now(UTC)))
    surface = SlackSurface(web, streams=streams)
    thread = await asked(slack)
    reply = entry(thread)
    turn = LiveTurn(thread=thread, session_id=SESSION, requester="U0ALICE", people=("U0BOB",))
    stream = streams.open(turn, entry_id=reply.id, people=turn.people)
    for piece in TEXT.partition("<@U0B")[0], "<@U0B":
        await stream.text(piece)
        await asyncio.sleep(0.05)
    shown = slack.streams(channel=OPS)
    assert shown and shown[0]["text"] == TEXT.partition("<@U0B")[0]  # not "&lt;@U0B" yet
    await stream.text("OB>.")
    await stream.steps([ToolStep(call_id="c1", tool="service_status", status="done")])
    Outbox(home).enqueue(reply)
    await stream.close()

    delivered = await surface.post_reply(reply, check_first=False)
    [record] = slack.streams(channel=OPS)
    assert delivered.ts == record["ts"]
    assert record["text"] == TEXT and record["state"] == "stopped"
    assert [c["method"] for c in record["calls"]][-1] == "chat.stopStream"
    assert not slack.calls("chat.update") and not slack.calls("chat.postMessage")
    assert [t["status"] for t in record["tasks"]] == ["complete"]


async def test_a_closed_stream_leaves_no_update_waiting_for_its_interval(
    slack: LocalSlack, web: AsyncWebClient, home: Home
) -> None:
    """A batch of text waiting for its interval was left asleep after the close that sent
    it, and the bot's stop (which lets stream updates finish) waited for it: up to an
    interval per stop (0.3 s by default; here a minute, so a wait shows)."""
    streams = LiveStreams(web, home=home, interval=60.0)
    surface = SlackSurface(web, streams=streams)
    thread = await asked(slack)
    reply = entry(thread)
    turn = LiveTurn(thread=thread, session_id=SESSION, requester="U0ALICE", people=("U0BOB",))
    stream = streams.open(turn, entry_id=reply.id, people=turn.people)
    await stream.text(TEXT)  # its batch waits for the interval
    Outbox(home).enqueue(reply)
    await stream.close()  # the whole reply is complete: nothing more to stream
    await asyncio.wait_for(streams.drain(within=120.0), 10)
    # Nothing of it is lost: the reply goes out whole.
    await surface.post_reply(reply, check_first=False)
    [message] = [m for m in slack.thread(channel=OPS, ts=thread.thread_ts) if m.get("bot_id")]
    assert message["text"] == TEXT


async def test_the_journal_holds_each_step_before_slack_shows_it(
    slack: LocalSlack, web: AsyncWebClient, home: Home
) -> None:
    streams, stream, _ = await streaming_step(slack, web, home, RUNNING)

    def journaled() -> tuple[str, ...]:
        [record] = streams.journal.all()
        return tuple(t.status for t in record.tasks)

    assert [t["status"] for t in slack.streams(channel=OPS)[0]["tasks"]] == ["in_progress"]
    assert journaled() == ("in_progress",)
    [record] = streams.journal.all()
    assert record.ending() == [
        {
            "type": "task_update",
            "id": "c1",
            "title": "slow_check",
            "status": "error",
            "details": "cut off by a restart",
        }
    ]
    await stream.steps([ToolStep(call_id="c1", tool="slow_check", status="done")])
    await until(lambda: journaled() == ("complete",))
    [record] = streams.journal.all()
    # Nothing a restart would have to cut off: the step ends as it did.
    assert record.ending() == [
        {"type": "task_update", "id": "c1", "title": "slow_check", "status": "complete"}
    ]


def test_a_stream_record_written_before_task_steps_were_journaled_still_reads(home: Home) -> None:
    old = (
        '{"schema_version":1,"entry_id":"reply-sess_0123456789ab-m1","thread":{"team":"T0LOCAL",'
        '"channel":"C0OPS","thread_ts":"1700000000.000100"},"session_id":"sess_0123456789ab",'
        '"ts":"1700000000.000200","started_at":"2026-11-02T09:00:00.000Z","owner":"gone"}'
    )
    record = StreamRecord.model_validate_json(old)
    assert record.tasks == () and record.ending() == []


async def test_a_step_journaled_done_that_slack_never_saw_ends_done_after_a_restart(
    slack: LocalSlack, web: AsyncWebClient, home: Home
) -> None:
    # The journal is written before Slack is told: a process killed between the two left a
    # step "complete" on disk that Slack still shows in progress. The next process must
    # send it, or the finalized message spins for ever.
    first, stream, reply = await streaming_step(slack, web, home, RUNNING)
    # The append that would tell Slack never arrives (the process dies on its way).
    slack.inject_fault(method="chat.appendStream", error="internal_error", status=500)
    await stream.steps([ToolStep(call_id="c1", tool="slow_check", status="done")])
    await until(lambda: bool(slack.calls("chat.appendStream")) and stream.broken)
    [journaled] = first.journal.all()
    assert [t.status for t in journaled.tasks] == ["complete"]
    assert [t["status"] for t in slack.streams(channel=OPS)[0]["tasks"]] == ["in_progress"]

    record = await finalized_by_a_successor(slack, web, home, reply)
    assert [t["status"] for t in record["tasks"]] == ["complete"]


async def test_a_step_s_details_slack_showed_are_not_said_twice_after_a_restart(
    slack: LocalSlack, web: AsyncWebClient, home: Home
) -> None:
    # Slack adds a step's new details to those it shows: the next process finishes the
    # stream with each step's state, not with details Slack may show already ("errorerror").
    failed = ToolStep(call_id="c1", tool="slow_check", status="failed", detail="error")
    _, _, reply = await streaming_step(slack, web, home, failed)
    record = await finalized_by_a_successor(slack, web, home, reply)
    [step] = record["tasks"]
    assert (step["status"], step["details"]) == ("error", "error")


async def test_a_step_that_asked_for_approval_says_so_after_a_restart(
    slack: LocalSlack, web: AsyncWebClient, home: Home
) -> None:
    # The approval is on disk and outlives the process: the restart did not cut the step
    # off, and the finished message says what stays true (the card says how it was decided).
    waiting = ToolStep(call_id="c1", tool="restart", status="waiting")
    first, _, reply = await streaming_step(slack, web, home, waiting)
    [journaled] = first.journal.all()
    assert [(t.title, t.status) for t in journaled.tasks] == [
        ("Approval requested for restart", "complete")
    ]

    record = await finalized_by_a_successor(slack, web, home, reply)
    [step] = record["tasks"]
    assert (step["title"], step["status"]) == ("Approval requested for restart", "complete")
    assert "details" not in step


async def test_a_waiting_step_an_older_version_journaled_ends_as_asked_not_waiting(
    slack: LocalSlack, web: AsyncWebClient, home: Home
) -> None:
    # Before, such a step was journaled (and finished) "pending", "waiting for approval":
    # a finished message said so for good, days after the decision.
    streams, _, thread, reply, record = await reply_after_a_dead_stream(slack, web, home)
    old = {"id": "c1", "title": "restart", "status": "pending", "details": "waiting for approval"}
    streams.journal.put(record.model_copy(update={"tasks": (StreamTask.of(old),)}))
    finished = await finalized_by_a_successor(slack, web, home, reply)
    [step] = finished["tasks"]
    assert (step["title"], step["status"]) == ("Approval requested for restart", "complete")


RUNNING = ToolStep(call_id="c1", tool="slow_check", status="running")


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


async def streaming(
    slack: LocalSlack, web: AsyncWebClient, home: Home, text: str
) -> tuple[LiveStreams, SlackReplyStream, OutboxEntry]:
    """A live stream whose ``text`` Slack shows, and its reply entry (not queued)."""
    streams = LiveStreams(web, home=home, interval=0.0, clock=FixedClock(datetime.now(UTC)))
    reply = entry(await asked(slack))
    turn = LiveTurn(thread=reply.thread, session_id=SESSION, requester="U0ALICE")
    stream = streams.open(turn, entry_id=reply.id, people=())
    await stream.text(text)
    await until(lambda: bool(slack.streams(channel=OPS)))
    return streams, stream, reply


async def streaming_step(
    slack: LocalSlack, web: AsyncWebClient, home: Home, step: ToolStep
) -> tuple[LiveStreams, SlackReplyStream, OutboxEntry]:
    """A live stream whose text and ``step`` Slack shows, and its reply entry (not queued)."""
    streams, stream, reply = await streaming(slack, web, home, "Checking the api")
    await stream.steps([step])
    await until(lambda: any(s["tasks"] for s in slack.streams(channel=OPS)))
    return streams, stream, reply


async def finalized_by_a_successor(
    slack: LocalSlack, web: AsyncWebClient, home: Home, reply: OutboxEntry
) -> dict[str, Any]:
    """The stream as Slack shows it once the next process delivered its reply."""
    successor = LiveStreams(web, home=home)
    Outbox(home).enqueue(reply)
    delivered = await SlackSurface(web, streams=successor).post_reply(reply, check_first=True)
    record = slack.stream(channel=OPS, ts=delivered.ts)
    assert record is not None and record["state"] == "stopped"
    return record


async def test_a_step_still_running_when_its_reply_is_finished_shows_no_spinner_for_ever(
    slack: LocalSlack, web: AsyncWebClient, home: Home
) -> None:
    # A tool that outlasts the wait for its stream (a long MCP call): delivery finishes the
    # reply meanwhile, and Slack takes no step updates after that. A spinner would stay.
    streams, stream, reply = await streaming_step(slack, web, home, RUNNING)
    streams.finalize_wait = 0.05
    Outbox(home).enqueue(reply)
    delivered = await SlackSurface(web, streams=streams).post_reply(reply, check_first=False)
    record = slack.stream(channel=OPS, ts=delivered.ts)
    assert record is not None and record["state"] == "stopped"
    [step] = record["tasks"]
    assert step["status"] == "pending"
    assert step.get("details") == "still running when this message was finished"


@pytest.mark.parametrize("removable", [False, True])
async def test_a_stream_slack_refuses_for_good_to_finish_is_recorded_as_what_stays(
    slack: LocalSlack, web: AsyncWebClient, home: Home, removable: bool
) -> None:
    """The reply's start was streamed into the thread; Slack then refused for good to make
    it the reply (the channel archived meanwhile). The entry was recorded as failed, traced
    "✖ reply not posted", while the streamed start stayed in the thread. Now the stream is
    taken away if it can be ("not posted" is then true); if it stays, the reply is posted
    in part, and the sweep does not look for it again."""
    streams, surface, thread, reply, record = await reply_after_a_dead_stream(slack, web, home)
    methods = ["chat.update"] + ([] if removable else ["chat.delete"])
    for method in methods:
        slack.inject_fault(method=method, error="is_archived", count=None)
    if removable:
        with pytest.raises(DeliveryError) as refused:
            await surface.post_reply(reply, check_first=True)
        assert refused.value.permanent and refused.value.reason == "is_archived"
        assert slack.message(channel=OPS, ts=record.ts) is None  # nothing of it stays
    else:
        delivered = await surface.post_reply(reply, check_first=True)
        assert delivered.ts == record.ts and not delivered.adopted
        assert delivered.partly == (
            "posted in part (its streamed start, which Slack refused to finish): is_archived"
        )
        shown = slack.message(channel=OPS, ts=record.ts)
        assert shown is not None and shown["text"] == "All four services are"
    assert streams.journal.all() == []


async def test_a_lost_start_never_takes_away_another_reply_s_stream_still_to_finish(
    slack: LocalSlack, web: AsyncWebClient, home: Home
) -> None:
    """A turn streamed its first reply, ran its tool and streamed a second; Slack was slow
    (the first reply not yet finished: it carries its metadata only then) and the second's
    start never answered; then the process died. The start is looked for in the thread as
    a message of the bot's without metadata: the first reply's stream is one too, yet it is
    not a stray: its own reply's delivery finishes it, with its task steps."""
    streams, surface, thread, reply, first = await reply_after_a_dead_stream(slack, web, home)
    lost = await dead_stream(web, streams, thread, f"reply-{SESSION}-m3", "And then")
    streams.journal.put(lost.model_copy(update={"ts": ""}))  # its ts never came back

    assert await streams.sweep() == 1
    assert slack.message(channel=OPS, ts=lost.ts) is None
    assert slack.message(channel=OPS, ts=first.ts) is not None  # still there, to finish

    delivered = await surface.post_reply(reply, check_first=True)
    assert delivered.ts == first.ts and not slack.calls("chat.postMessage")
    [message] = [m for m in slack.thread(channel=OPS, ts=thread.thread_ts) if m.get("bot_id")]
    assert message["text"] == TEXT


async def test_a_lone_less_than_sign_does_not_hold_back_the_rest_of_the_stream(
    slack: LocalSlack, web: AsyncWebClient, home: Home
) -> None:
    """Only what could still become a mention of one of the reply's people waits for its
    ``>``: after "a < b" (or a ``<`` that opens anything else) the stream stopped growing,
    and the whole rest of the answer appeared at once when it was finished."""
    streams = LiveStreams(web, home=home, interval=0.0, clock=FixedClock(datetime.now(UTC)))
    thread = await asked(slack)
    turn = LiveTurn(thread=thread, session_id=SESSION, requester="U0ALICE", people=("U0BOB",))
    stream = streams.open(turn, entry_id=f"reply-{SESSION}-m1", people=turn.people)
    for piece in "Retries happen when a < b, ", "so the queue drains ":
        await stream.text(piece)
        await asyncio.sleep(0.05)
    [shown] = slack.streams(channel=OPS)
    assert shown["text"] == "Retries happen when a &lt; b, so the queue drains "
    for piece in "<!her", "e> and <@U0":
        await stream.text(piece)
        await asyncio.sleep(0.05)
    [shown] = slack.streams(channel=OPS)
    assert shown["text"] == "Retries happen when a &lt; b, so the queue drains &lt;!here&gt; and "
    await stream.text("BOB>")  # whole: shown without waiting for more
    await asyncio.sleep(0.05)
    [shown] = slack.streams(channel=OPS)
    assert shown["text"].endswith("&lt;!here&gt; and <@U0BOB>")
    await stream.abandon()


LINKED = "See [the runbook](https://evil.example/runbook) first, then handlers[name](event)."


@pytest.mark.parametrize("at", ["[the runbook]", "[the runbook](", "[the runbook](htt"])
async def test_a_link_split_across_batches_is_held_back_until_it_is_decided(
    slack: LocalSlack, web: AsyncWebClient, home: Home, at: str
) -> None:
    """Whether a ``](`` needs its zero-width space is known only once its target is
    (``https:`` does, ``event)`` does not): a batch that ended inside one sent the pair
    bare, the next batch's text no longer continued it, and the live view stopped there."""
    streams = LiveStreams(web, home=home, interval=0.0, clock=FixedClock(datetime.now(UTC)))
    surface = SlackSurface(web, streams=streams)
    thread = await asked(slack)
    reply = entry(thread, text=LINKED)
    turn = LiveTurn(thread=thread, session_id=SESSION, requester="U0ALICE", people=("U0BOB",))
    stream = streams.open(turn, entry_id=reply.id, people=turn.people)
    first, rest = LINKED[: LINKED.index(at) + len(at)], LINKED[LINKED.index(at) + len(at) :]
    await stream.text(first)
    await until(lambda: bool(stream.ts))  # the first batch went out, ending inside the link
    await stream.text(rest)
    await until(lambda: "handlers" in stream.sent or stream.broken)
    assert not stream.broken, "what the stream sent no longer started the reply"
    Outbox(home).enqueue(reply)
    await stream.close()
    await surface.post_reply(reply, check_first=False)
    [record] = slack.streams(channel=OPS)
    assert record["state"] == "stopped"
    assert "](\u200bhttps" not in record["text"] and "]\u200b(https" in record["text"]
    assert "handlers[name](event)" in record["text"]
    assert not slack.calls("chat.update") and not slack.calls("chat.postMessage")
