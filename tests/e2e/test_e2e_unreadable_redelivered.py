"""What signoff could not read is quarantined once, however Slack delivers it again.

Slack delivers an envelope again when its ack does not reach it in time. A process
remembered what it had quarantined only in memory, so a redelivery that reached the next
process (the bot was restarted meanwhile) was a second record, and its author was told a
second time; a stop event signoff could not read was not remembered even in memory: each
redelivery was a record of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from signoff_e2e_kit import (
    OPS,
    event_callback,
    quarantined,
    unreadable_mention,
    until,
)

from bot.app import SignoffBot
from bot.config import Settings
from localslack import LocalSlack, Timing

if TYPE_CHECKING:
    from conftest import BotFactory


def _acked_again(slack: LocalSlack, event_id: str) -> bool:
    """A redelivery of the event was acked (by whichever process got it)."""
    return any(
        d.acked and d.retry_attempt > 0
        for d in slack.deliveries(type="events_api")
        if d.event_id == event_id
    )


# Slack's own ack deadline: the first process stops well within it.
@pytest.mark.slack_timing(Timing(ack_timeout=3.0, server_ping_interval=None))
async def test_a_redelivery_after_a_restart_is_not_quarantined_again(
    slack: LocalSlack, bot: SignoffBot, start_bot: BotFactory, settings: Settings
) -> None:
    ts = await slack.post_message(channel=OPS, user="U0ALICE", text="status of api")
    slack.freeze_sockets()  # the network goes silent: the bot's ack never reaches Slack
    await slack.send_envelope(
        type="events_api", payload=unreadable_mention("Ev0AGAIN001", ts=ts, event_ts=ts)
    )
    await slack.wait_for_ephemeral(user="U0ALICE", text_contains="could not read this")
    (kept,) = quarantined(settings.home)
    await bot.stop(grace=5)
    slack.drop_sockets()
    fresh = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    await until(lambda: _acked_again(slack, "Ev0AGAIN001"), what="the redelivery to be acked")
    await fresh.socket.call(fresh.handler.frames_done(within=5))
    assert [k["id"] for k in quarantined(settings.home)] == [kept["id"]]
    assert len(slack.ephemeral_messages(user="U0ALICE")) == 1


@pytest.mark.slack_timing(Timing(ack_timeout=0.5, server_ping_interval=None))
async def test_a_stop_event_that_cannot_be_read_is_quarantined_once(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    # A thread_ts that is not one: signoff cannot tell which thread to stop.
    stopped = event_callback(
        "Ev0STOPBAD1",
        {
            "type": "agent_session_stopped",
            "user": "U0ALICE",
            "channel": OPS,
            "thread_ts": "yesterday",
            "event_ts": "1900000000.000200",
        },
    )
    slack.freeze_sockets()  # every ack is lost: Slack sends it again, three times
    await slack.send_envelope(type="events_api", payload=stopped)
    tries = await until(
        lambda: len([d for d in slack.deliveries(type="events_api") if d.timed_out]) == 4,
        what="Slack to give up on it",
    )
    assert tries
    await bot.socket.call(bot.handler.frames_done(within=5))
    assert len(quarantined(settings.home)) == 1
