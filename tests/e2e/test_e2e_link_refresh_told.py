"""A routine refresh of the Socket Mode link is told as one, not as a loss.

Slack replaces a link now and then (``disconnect``: ``warning``, ``refresh_requested``);
signoff opens the next link first and reads the old one until Slack closes it
(bot/link_handover.py), so nothing stops arriving. Yet each refresh logged
``socket_down`` at WARNING, and ``/readyz`` and ``signoff_socket_connected`` said the link
was down until the next one's ``hello``: an alert on either fired for every refresh. Now a
refresh is one INFO line, ``socket_handover``, and the link counts as up while the old one
is read; only when the old link closes before the next one is up is it ``socket_down``.
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


def _lines(caplog: pytest.LogCaptureFixture, event: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "signoff.events" and r.getMessage() == event]


def _open(slack: LocalSlack) -> set[str]:
    return {str(s["id"]) for s in slack.sockets()}


@pytest.mark.parametrize("reason", ["warning", "refresh_requested"])
async def test_a_refresh_is_one_info_line_and_the_link_stays_up(
    slack: LocalSlack, start_bot: BotFactory, caplog: pytest.LogCaptureFixture, reason: str
) -> None:
    caplog.set_level(logging.INFO)
    bot = await start_bot(ping_interval=PING)
    client = bot.handler.client
    await until(lambda: client.link_problem() is None, what="the link up")
    (old,) = _open(slack)
    slack.hold_hellos(held=True)
    await slack.disconnect_sockets(reason=reason, socket_id=old)
    await slack.wait_for_connections(2, timeout=5)  # the next link, without its hello yet
    await until(lambda: client.replaced_links() == 1, what="the old link moved aside")
    assert client.link_problem() is None  # the old link still delivers
    slack.hold_hellos(held=False)
    await until(lambda: len(_lines(caplog, "socket_up")) == 2, what="the next hello")
    await slack.close_sockets(socket_id=old)
    await until(lambda: client.replaced_links() == 0, what="the old link let go")
    assert client.link_problem() is None
    assert not _lines(caplog, "socket_down")
    (handover,) = _lines(caplog, "socket_handover")
    assert handover.levelno == logging.INFO
    assert getattr(handover, "signoff_fields", {}).get("reason") == f"disconnect: {reason}"


async def test_a_refresh_whose_next_link_is_not_had_in_time_is_a_loss(
    slack: LocalSlack, start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    bot = await start_bot(ping_interval=PING)
    client = bot.handler.client
    await until(lambda: client.link_problem() is None, what="the link up")
    (old,) = _open(slack)
    held = slack.hold_calls(method="apps.connections.open", count=1)
    await slack.disconnect_sockets(reason="warning", socket_id=old)
    await held.wait_held(timeout=5)
    await slack.close_sockets(socket_id=old)  # Slack closes it; no next link yet
    await until(lambda: client.link_problem() is not None, what="the link said down")
    (down,) = _lines(caplog, "socket_down")
    assert down.levelno == logging.WARNING
    held.release()
    await until(lambda: client.link_problem() is None, what="the next link up")
    assert len(_lines(caplog, "socket_down")) == 1


async def _answered(slack: LocalSlack) -> bool:
    sent = await slack.slash_command(command="/signoff", user="U0ALICE", channel=OPS, text="help")
    done = await slack.wait_for_delivery(
        lambda d: d.envelope_id == sent.envelope_id and (d.acked or d.timed_out)
    )
    return done.acked


@pytest.mark.parametrize("reason", ["warning", "refresh_requested"])
async def test_a_close_right_after_the_disconnect_opens_one_next_link(
    slack: LocalSlack, start_bot: BotFactory, caplog: pytest.LogCaptureFixture, reason: str
) -> None:
    """Slack closes the link right after its ``disconnect``: the close's reconnect may
    open the next link before the ``disconnect`` is handled, whose forced reconnect then
    closed that healthy link and opened a third."""
    caplog.set_level(logging.INFO)
    bot = await start_bot(ping_interval=PING)
    client = bot.handler.client
    await until(lambda: client.link_problem() is None, what="the link up")
    (old,) = _open(slack)
    held = slack.hold_calls(method="apps.connections.open", count=1)
    await slack.disconnect_sockets(reason=reason, socket_id=old, drain=False)
    await slack.close_sockets(socket_id=old)
    await held.wait_held(timeout=5)
    held.release()
    await until(lambda: client.link_problem() is None, what="the next link up")
    for _ in range(3):  # round trips: the disconnect's own handling is long done
        assert await _answered(slack)
    assert len(slack.calls("apps.connections.open")) == 2
    assert len(_open(slack)) == 1
    assert len(_lines(caplog, "socket_up")) == 2
