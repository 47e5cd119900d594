"""A queued ``status`` entry is rendered from disk when it is sent, so it never holds the
thread's later entries: against LocalSlack through slack_sdk, a setStatus that keeps
failing (a 5xx) lets the replies behind it out and is retried on its own; of several
status entries waiting in one thread, only the last is asked of Slack."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient
from test_delivery_unrecorded import asked, drained, entry, until
from test_queued_status import agent_workspace

from agent_core.delivery import Backoff, Delivery
from bot.live_streams import LiveStreams
from bot.slack_surface import SlackSurface
from localslack import LocalSlack
from sessions import Home, ThreadKey, coordination_for

OPS = "C0OPS"


def delivery_for(slack: LocalSlack, home: Home) -> Delivery:
    web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    surface = SlackSurface(web, streams=LiveStreams(web, home=home))
    return Delivery(home=home, surface=surface, poll=0.05, backoff=Backoff(initial=0.05))


async def drain(delivery: Delivery, home: Home) -> None:
    delivery.start()
    try:
        await drained(
            delivery, home, lambda: until(lambda: not coordination_for(home).outbox.pending())
        )
    finally:
        await delivery.stop()


async def queued(slack: LocalSlack, home: Home, *entries: tuple[str, str, str]) -> ThreadKey:
    """A thread asked in ``slack``, and (key, kind, text) entries queued in it."""
    thread = await asked(slack)
    for key, kind, text in entries:
        coordination_for(home).outbox.enqueue(entry(thread, key, kind, text))
    return thread


async def test_a_status_slack_keeps_failing_does_not_hold_the_replies_behind_it(
    home: Home,
) -> None:
    async with LocalSlack(agent_workspace()) as slack:
        thread = await queued(slack, home, ("ended", "status", ""), ("m1", "reply", "All is well."))
        outbox = coordination_for(home).outbox
        failing = slack.inject_fault(
            method="agents.sessions.setStatus", error="internal_error", status=500, count=None
        )
        delivery = delivery_for(slack, home)
        delivery.start()
        try:
            await until(lambda: len(slack.calls("chat.postMessage")) == 1)
            # The reply is marked sent once Slack's answer is in (a moment after Slack
            # has it); the status stays, retried on its own.
            await until(lambda: [e.kind for e in outbox.pending()] == ["status"])
            slack.remove_fault(failing)
            await drained(delivery, home, lambda: until(lambda: not outbox.pending()))
        finally:
            await delivery.stop()
        shown = slack.agent_session(channel=OPS, thread_ts=thread.thread_ts)
        assert shown is not None and shown["status"] == "active"
        assert len(slack.calls("agents.sessions.setStatus")) >= 2


async def test_of_several_statuses_waiting_in_a_thread_only_the_last_is_asked(
    home: Home,
) -> None:
    async with LocalSlack(agent_workspace()) as slack:
        statuses = ("waiting", "status", ""), ("m1", "reply", "Done."), ("ended", "status", "")
        thread = await queued(slack, home, *statuses)
        outbox = coordination_for(home).outbox
        await drain(delivery_for(slack, home), home)
        assert len(slack.calls("chat.postMessage")) == 1
        assert len(slack.calls("agents.sessions.setStatus")) == 1
        first = outbox.done(thread, "status-sess_0123456789ab-waiting")
        assert first is not None and first.outcome == "skipped"
