"""A link is taken as being replaced from the frame that says so.

The link Slack warned about was taken as being replaced only when the disconnect's
listener ran, and moved aside only once the next link had been asked for: a second
routine ``disconnect`` read on it in between (Slack's ``refresh_requested`` after its
``warning``) found the new, healthy link not being replaced and replaced it the SDK's way
(closed, a third link, a second ``socket_down``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pytest
from signoff_e2e_kit import OPS, until

from localslack import LocalSlack

if TYPE_CHECKING:
    from conftest import BotFactory

PING = 10  # production's: nothing but Slack's frames wakes a link's reader


def _open(slack: LocalSlack) -> set[str]:
    return {str(s["id"]) for s in slack.sockets()}


def _downs(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.name == "signoff.events" and r.getMessage() == "socket_down"
    ]


@pytest.mark.parametrize("second", ["refresh_requested", "warning"])
async def test_a_second_disconnect_before_the_handover_leaves_the_next_link_be(
    slack: LocalSlack, start_bot: BotFactory, caplog: pytest.LogCaptureFixture, second: str
) -> None:
    caplog.set_level(logging.INFO)
    bot = await start_bot(ping_interval=PING)
    client = bot.handler.client
    await until(lambda: client.link_problem() is None, what="the link up")
    (old,) = _open(slack)
    held = slack.hold_calls(method="apps.connections.open", count=1)
    await slack.disconnect_sockets(reason="warning", socket_id=old)
    await held.wait_held(timeout=5)  # the next link is being asked for: the old one current
    # Slack may send on a link it asked to refresh until it closes it.
    await slack.disconnect_sockets(reason=second, socket_id=old, drain=False)
    sent = await slack.slash_command(command="/signoff", user="U0ALICE", channel=OPS, text="help")
    # Read after the second disconnect on the same link: once it is acked, so was that.
    await slack.wait_for_delivery(lambda d: d.envelope_id == sent.envelope_id and d.acked)
    held.release()
    await slack.wait_for_connections(2, timeout=5)
    await until(lambda: client.link_problem() is None, what="the next link up")
    await slack.close_sockets(socket_id=old)
    await until(lambda: client.replaced_links() == 0, what="the old link let go")
    answered = await slack.slash_command(
        command="/signoff", user="U0ALICE", channel=OPS, text="help"
    )
    done = await slack.wait_for_delivery(
        lambda d: d.envelope_id == answered.envelope_id and (d.acked or d.timed_out)
    )
    assert done.acked
    assert len(slack.calls("apps.connections.open")) == 2
    assert len(_open(slack)) == 1
    assert len(_downs(caplog)) == 1
