"""What comes on a replaced link after the handover is taken as on that link, and a frame
that cannot be handled does not stop the reading.

The client's reader judged whether its link was the replaced one before it waited for the
next frame, and it waits there through the handover: the first frame Slack sent on the old
link afterwards was taken as on the current one. Slack's ``refresh_requested`` that follows
its ``warning`` made the client replace the new, healthy link (a third socket, a second
``socket_down``); Slack's close of the old link logged ``socket_down`` "closed by the
server" for the healthy link, with no ``socket_up`` after. The production ping interval
(10 s) is used: a pong in between would have refreshed the judgement and hidden it.

And only the read was guarded: an exception from a listener ended the reader silently,
the current link left unread until the monitor noticed (~40 s).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pytest
from aiohttp import WSMessage
from signoff_e2e_kit import OPS, until

from bot.socket_link import SignoffSocketModeClient
from localslack import LocalSlack

if TYPE_CHECKING:
    from conftest import BotFactory

PING = 10  # production's: nothing but Slack's frames wakes the old link's reader


def _open(slack: LocalSlack) -> set[str]:
    return {str(s["id"]) for s in slack.sockets()}


def _events(caplog: pytest.LogCaptureFixture, event: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "signoff.events" and r.getMessage() == event]


async def _answered(slack: LocalSlack) -> bool:
    sent = await slack.slash_command(command="/signoff", user="U0ALICE", channel=OPS, text="help")
    done = await slack.wait_for_delivery(
        lambda d: d.envelope_id == sent.envelope_id and (d.acked or d.timed_out)
    )
    return done.acked


async def _handed_over(slack: LocalSlack, client: SignoffSocketModeClient) -> str:
    """The link warned about, once its replacement said hello beside it."""
    await until(lambda: client.link_problem() is None, what="the link up")
    (old,) = _open(slack)
    await slack.disconnect_sockets(reason="warning", socket_id=old)
    await slack.wait_for_connections(2, timeout=5)
    await until(lambda: client.link_problem() is None, what="the next link up")
    assert client.replaced_links() == 1
    return old


async def _closed_by_slack(slack: LocalSlack, client: SignoffSocketModeClient, old: str) -> None:
    await slack.close_sockets(socket_id=old)
    await until(lambda: old not in _open(slack), what="the old link closed")
    await until(lambda: client.replaced_links() == 0, what="the old link let go")
    assert await _answered(slack)  # a round trip: the client is done with what it read


@pytest.mark.parametrize("reason", ["refresh_requested", "server_overloaded"])
async def test_a_disconnect_on_the_link_warned_about_leaves_its_replacement_be(
    slack: LocalSlack, start_bot: BotFactory, caplog: pytest.LogCaptureFixture, reason: str
) -> None:
    """Slack warns, then refreshes the same (old) link, then closes it (or a reason it
    added since): the link that replaced it is kept."""
    caplog.set_level(logging.INFO)
    bot = await start_bot(ping_interval=PING)
    client = bot.handler.client
    old = await _handed_over(slack, client)
    await slack.disconnect_sockets(reason=reason, socket_id=old)
    await _closed_by_slack(slack, client, old)
    assert len(slack.calls("apps.connections.open")) == 2
    assert len(_open(slack)) == 1 and client.link_problem() is None
    assert not _events(caplog, "socket_down")
    assert len(_events(caplog, "socket_handover")) == 1  # the warning's
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and reason in r.message]


async def test_slack_closing_the_link_it_replaced_is_not_the_link_lost(
    slack: LocalSlack, start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    bot = await start_bot(ping_interval=PING)
    client = bot.handler.client
    old = await _handed_over(slack, client)
    await _closed_by_slack(slack, client, old)
    assert not _events(caplog, "socket_down")  # a refresh: the link never went down
    handovers = [
        str(getattr(r, "signoff_fields", {}).get("reason"))
        for r in _events(caplog, "socket_handover")
    ]
    assert handovers == ["disconnect: warning"]
    assert len(_events(caplog, "socket_up")) == 2
    assert len(slack.calls("apps.connections.open")) == 2
    assert client.link_problem() is None


async def test_a_listener_that_fails_does_not_stop_the_reading(
    slack: LocalSlack, start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    bot = await start_bot(ping_interval=PING)
    client = bot.handler.client
    await until(lambda: client.link_problem() is None, what="the link up")
    failed: list[str] = []

    async def fails_once(message: WSMessage) -> None:
        if not failed:
            failed.append(str(message.data))
            raise RuntimeError("a listener's bug, https://x.invalid/link/?ticket=secret")

    client.on_message_listeners.append(fails_once)
    assert await _answered(slack)  # enqueued before its listeners ran
    assert failed
    for _ in range(3):  # read on, the same link
        assert await _answered(slack)
    assert len(slack.calls("apps.connections.open")) == 1
    (line,) = [
        r for r in caplog.records if r.name == "signoff.socket" and r.levelno >= logging.WARNING
    ]
    assert line.levelno == logging.WARNING and "RuntimeError" in line.getMessage()
    assert "ticket" not in line.getMessage() and "\n" not in line.getMessage()
