"""A stream Slack would not take away at once (its delete or stop refused) is not left in
the thread: the entry keeps it, and the sweep tries again."""

from __future__ import annotations

import logging

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from test_live_streams import OPS, TEXT, streaming, until, web

from bot.slack_surface import SlackSurface
from localslack import LocalSlack
from sessions import Home, Outbox

__all__ = ["web"]  # the fixture, shared with test_live_streams


async def test_a_voided_stream_slack_would_not_delete_yet_is_not_left_in_the_thread(
    slack: LocalSlack, web: AsyncWebClient, home: Home
) -> None:
    """A retry voids the streamed text; Slack answers the delete with an error once. The
    half answer must not stay in the thread next to the reply for good."""
    streams, stream, reply = await streaming(slack, web, home, "Half an ans")
    slack.inject_fault(method="chat.delete", error="internal_error", status=500)
    await stream.restart()
    await until(lambda: bool(slack.calls("chat.delete")))
    await stream.text(TEXT)
    await until(lambda: stream._flush_due is None)  # its batch went (or was held back)
    Outbox(home).enqueue(reply)
    await stream.close()
    await until(lambda: stream.closed.is_set())

    await SlackSurface(web, streams=streams).post_reply(reply, check_first=False)
    thread = reply.thread.thread_ts
    shown = [m["text"] for m in slack.thread(channel=OPS, ts=thread) if m.get("bot_id")]
    assert shown == [TEXT]
    assert streams.journal.all() == []


async def test_a_stream_abandoned_while_slack_refused_its_delete_goes_at_the_next_sweep(
    slack: LocalSlack, web: AsyncWebClient, home: Home
) -> None:
    """The model failed after text was shown: its stream is abandoned, and Slack answers
    the delete with an error once. The half answer must not wait for a restart to go."""
    streams, stream, reply = await streaming(slack, web, home, "Restarting the api n")
    slack.inject_fault(method="chat.delete", error="internal_error", status=500)
    await stream.abandon()
    await until(lambda: bool(slack.calls("chat.delete")) and reply.id not in streams._live)
    [left] = streams.journal.all()  # kept to try again

    assert await streams.sweep() == 1
    assert slack.message(channel=OPS, ts=left.ts) is None
    assert streams.journal.all() == []


async def test_a_stream_slack_will_never_delete_is_not_asked_for_at_every_sweep(
    slack: LocalSlack, web: AsyncWebClient, home: Home, caplog: pytest.LogCaptureFixture
) -> None:
    """A workspace with compliance exports refuses every chat.delete. Each stream to take
    away stayed in the journal and was asked for again at every sweep (every 5 s), for
    good, one more with every model failure."""
    caplog.set_level(logging.WARNING, logger="signoff.slack")
    streams, stream, reply = await streaming(slack, web, home, "Restarting the api n")
    slack.inject_fault(
        method="chat.delete", error="compliance_exports_prevent_deletion", count=None
    )
    await stream.abandon()
    await until(lambda: bool(slack.calls("chat.delete")) and reply.id not in streams._live)
    for _ in range(3):
        await streams.sweep()
    assert len(slack.calls("chat.delete")) == 1
    assert streams.journal.all() == []
    [warning] = [r.getMessage() for r in caplog.records]
    assert "compliance_exports_prevent_deletion" in warning and reply.id in warning
