"""A process without a live view (a command in a terminal) queues what the thread's agent
session must show; delivery renders it from disk when it is sent, after the replies queued
before it, and skips it while a turn runs or is due there."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from engine_support import THREAD, EngineFactory, message
from slack_sdk.web.async_client import AsyncWebClient

from agent_core.queued_status import QueuedStatusView
from agent_core.surface import RecordingSurface
from agent_core.thread_status import agent_status
from approvals import ApprovalRequest, Decision
from bot.live_streams import LiveStreams
from bot.slack_surface import SlackSurface
from localslack import LocalSlack, WorkspaceConfig
from sessions import FixedClock, Home, Outbox, OutboxEntry, ThreadDir, ThreadKey, coordination_for

OPS = "C0OPS"


def status_entry(thread: ThreadKey, key: str = "sess_0123456789ab-ended") -> OutboxEntry:
    return OutboxEntry(
        id=f"status-{key}",
        kind="status",
        thread=thread,
        created_at="2026-11-02T09:00:00.000Z",
        seq=Outbox.next_seq(),
    )


async def test_a_decision_from_a_process_without_a_live_view_leaves_the_session_active(
    make_engine: EngineFactory, home: Home, clock: FixedClock, surface: RecordingSurface
) -> None:
    live = QueuedStatusView(coordination_for(home).outbox, clock=clock)
    engine = await make_engine(live=live)
    await engine.ingest(message("restart api", ts="1700000000.000100"))
    await engine.idle()
    assert surface.statuses == [(THREAD, "suspended")]
    await engine.decide(surface.cards[0].id, user="U0BOB", approve=True)
    await engine.idle()
    await engine.close()
    assert surface.statuses == [(THREAD, "suspended"), (THREAD, "active")]
    # After the reply that ended the turn, not before it.
    delivered = surface.delivered
    last_reply = max(i for i, d in enumerate(delivered) if d.startswith("reply-"))
    assert delivered[-1].startswith("status-") and len(delivered) - 1 > last_reply


def test_the_status_is_read_from_disk_when_it_is_sent(home: Home) -> None:
    assert agent_status(home, THREAD) == "active"  # a thread signoff never worked in
    ThreadDir(home, THREAD).ensure()
    ThreadDir(home, THREAD).inbox.deliver(message("status of api", ts="1700000000.000100"))
    assert agent_status(home, THREAD) is None  # its first turn is due


async def test_nothing_is_set_while_a_message_waits_for_its_turn(
    make_engine: EngineFactory, home: Home
) -> None:
    engine = await make_engine()
    await engine.ingest(message("status of api", ts="1700000000.000100"))
    await engine.idle()
    assert agent_status(home, THREAD) == "active"
    ThreadDir(home, THREAD).inbox.deliver(message("status of web", ts="1700000000.000200"))
    assert agent_status(home, THREAD) is None  # its turn is due: that process shows it
    await engine.close()


async def test_nothing_is_set_while_a_decision_waits_for_its_turn(
    make_engine: EngineFactory, home: Home, surface: RecordingSurface
) -> None:
    """A terminal killed between recording a decision and running its turn: the thread
    does not wait for a person any more, and the next worker runs it (and shows it)."""
    engine = await make_engine()
    await engine.ingest(message("restart api", ts="1700000000.000100"))
    await engine.idle()
    await engine.close()
    assert agent_status(home, THREAD) == "suspended"
    request = ApprovalRequest.open(home, surface.cards[0].id)
    request.write_decision(
        Decision(
            approval_id=request.id, verdict="approved", deciders=("U0BOB",),
            at="2026-11-02T09:00:05.000Z", args_sha256=request.capsule.args_sha256,
        )
    )  # fmt: skip
    assert agent_status(home, THREAD) is None


def agent_workspace() -> WorkspaceConfig:
    """A workspace whose app has agent sessions (``assistant:write``)."""
    base = WorkspaceConfig(seed=3)
    return dataclasses.replace(base, scopes=(*base.scopes, "assistant:write"))


async def test_slack_shows_it(home: Home) -> None:
    async with LocalSlack(agent_workspace()) as slack:
        surface, thread = await surface_and_thread(slack, home)
        await surface.show_status(status_entry(thread), "suspended")
        shown = slack.agent_session(channel=OPS, thread_ts=thread.thread_ts)
        assert shown is not None and shown["status"] == "suspended"


async def test_a_workspace_without_agent_sessions_is_asked_once(
    slack: LocalSlack, home: Home
) -> None:
    surface, thread = await surface_and_thread(slack, home)  # no assistant:write scope
    for key in "sess_0123456789ab-waiting", "sess_0123456789ab-ended":
        done = await surface.show_status(status_entry(thread, key), "active")
        assert done.channel == OPS  # delivered: there is nothing to show it on
    assert len(slack.calls("agents.sessions.setStatus")) == 1


async def surface_and_thread(slack: LocalSlack, home: Home) -> tuple[SlackSurface, ThreadKey]:
    web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    surface = SlackSurface(web, streams=LiveStreams(web, home=home))
    ts = await slack.post_message(channel=OPS, user="U0ALICE", text="<@U0SIGNOFF> hi")
    return surface, ThreadKey(team="T0LOCAL", channel=OPS, thread_ts=ts)


async def test_a_status_slack_refuses_is_given_up_not_retried_for_ever(
    make_engine: EngineFactory, home: Home, clock: FixedClock
) -> None:
    # `signoff say` without --thread chats in a thread Slack does not have: its reply
    # fails for good (thread_not_found), and the status queued after it must end too, not
    # hold the thread's lane in retries for as long as the bot runs.
    async with LocalSlack(agent_workspace()) as slack:
        web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        surface = SlackSurface(web, streams=LiveStreams(web, home=home))
        live = QueuedStatusView(coordination_for(home).outbox, clock=clock)
        engine = await make_engine(surface=surface, live=live)
        await engine.ingest(message("status of api", ts="1700000000.000100"))
        await engine.idle()
        await engine.close(flush=0.0)
        assert slack.calls("agents.sessions.setStatus")
        outbox = Outbox(home)
        assert [e.id for e in outbox.pending()] == []
        done = outbox.done(THREAD, f"status-{engine_session(home)}-ended")
        assert done is not None and done.outcome == "failed"


def engine_session(home: Home) -> str:
    head = ThreadDir(home, THREAD).head()
    assert head is not None
    return head


async def test_the_threads_a_stopped_process_may_have_left_showing_are_the_last_ones(
    make_engine: EngineFactory, home: Home, clock: FixedClock
) -> None:
    engine = await make_engine()
    other = ThreadKey(team="T0LOCAL", channel="C0OPS", thread_ts="1700000900.000100")
    await engine.ingest(message("status of api", ts="1700000000.000100"))
    await engine.idle()
    clock.advance(timedelta(minutes=10))
    await engine.ingest(message("status of web", ts=other.thread_ts, thread=other))
    await engine.idle()
    assert await engine.recent_threads(within_s=120) == [other]
    assert await engine.recent_threads(within_s=3600) == [other, THREAD]
    assert await engine.agent_status(other) == "active"


async def test_a_turn_the_drain_cut_shows_no_turn_working(
    make_engine: EngineFactory, home: Home
) -> None:
    """A session a drain left ``interrupted`` has nothing running it until the next start:
    the status the outbox sets from disk (when the drain's own call was rate-limited) is
    ``active``, where it said nothing and left the stop button up."""
    from sessions import SessionState, SessionStore

    engine = await make_engine()
    await engine.ingest(message("status of api", ts="1700000000.000100"))
    await engine.idle()
    await engine.close()
    store = SessionStore(home)
    head = ThreadDir(home, THREAD).head()
    assert head is not None
    record = store.load(head)
    # What a drain leaves: the turn's session cut while running (written as the store does).
    running = record.model_copy(
        update={"state": SessionState.RUNNING, "transitions": record.transitions[:-1]}
    )
    (home.session_dir(head) / "session.json").write_text(running.model_dump_json())
    store.transition(
        head, expected=SessionState.RUNNING, new=SessionState.INTERRUPTED, reason="cut"
    )
    assert agent_status(home, THREAD) == "active"
