"""Socket Mode turned off for the app: said once, clearly, and tried again less and less often.

Slack sends ``disconnect`` with reason ``link_disabled`` when Socket Mode is turned off in
the app's settings (docs.slack.dev/apis/events-api/using-socket-mode), and while it stays
off no connection is kept. slack_sdk reconnects at once on every ``disconnect``, whatever
its reason, so signoff asked Slack for a new link and was refused again, in a loop with no
pause, for as long as Socket Mode stayed off; and all its log said was a ``socket_down``.
Now the operator is told once what happened and what to do, ``/readyz`` says it, and the
link is tried again at once, then after ``ping_interval``, doubling up to 30 of them (5
minutes at the default 10 s): the bot keeps delivering replies and running timers, and
comes back by itself once Socket Mode is on again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pytest
from signoff_e2e_kit import backing_off, link_tries, linked_and_answering

from localslack import LocalSlack

if TYPE_CHECKING:
    from conftest import BotFactory

PING = 0.25  # the client's ping_interval: the first pause, doubling up to 30 of them


def _disabled_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "signoff.socket" and "Socket Mode is turned off" in r.getMessage()
    ]


async def test_socket_mode_turned_off_is_said_once_and_retried_ever_less_often(
    slack: LocalSlack, start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="signoff.socket")
    bot = await start_bot(ping_interval=PING)
    await slack.wait_for_sockets(1, timeout=5)
    off = slack.calls("apps.connections.open")[-1].at
    await slack.set_socket_mode(enabled=False)
    # Five asks (the link up, then four refused: five handshakes), and Socket Mode is on
    # again before the sixth, 2 s later, which links: its pause is checked with the rest,
    # and the 4 s pause a sixth refusal would begin is not waited out.
    await link_tries(slack, after=off, count=5, handshakes=5)
    (line,) = _disabled_lines(caplog)
    assert line.levelno == logging.WARNING
    assert "link_disabled" in line.getMessage() and "app's settings" in line.getMessage()
    problem = bot.handler.client.link_problem()
    assert problem is not None and "turned off" in problem

    await slack.set_socket_mode(enabled=True)
    await linked_and_answering(slack, bot)
    backing_off(await link_tries(slack, after=off, count=6), first=PING)
    assert len(_disabled_lines(caplog)) == 1
