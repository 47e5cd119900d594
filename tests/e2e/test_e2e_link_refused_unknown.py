"""A link Slack closes before its ``hello`` for a reason signoff does not know: said once,
and tried again less and less often.

Slack's ``disconnect`` reasons are a list it may add to. One that came before any ``hello``
(the link refused, not refreshed) made slack_sdk reconnect at once, and signoff with it:
refused again, in a loop with no pause, with nothing above INFO saying why and ``/readyz``
reading "no hello received". Now it is a refusal like ``too_many_websockets``: one WARNING
line naming Slack's reason, ``/readyz`` naming it, the link tried at once, then after
``ping_interval``, doubling up to 30 of them; taken again once Slack gives it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pytest
from signoff_e2e_kit import (
    backing_off,
    link_tries,
    link_tries_backing_off,
    linked_and_answering,
    until,
)

from localslack import LocalSlack

if TYPE_CHECKING:
    from conftest import BotFactory

PING = 0.25  # the client's ping_interval: the first pause, doubling up to 30 of them
REASON = "server_overloaded"  # not one Slack documents, nor one signoff knows


def _refused_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "signoff.socket" and r.levelno >= logging.WARNING and REASON in r.getMessage()
    ]


async def test_a_link_refused_for_an_unknown_reason_is_said_once_and_retried_ever_less_often(
    slack: LocalSlack, start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="signoff.socket")
    slack.refuse_links(reason=REASON)
    bot = await start_bot(ping_interval=PING)
    # Five asks refused (five handshakes); refusing stops before the sixth, which links:
    # its pause is checked with the rest (``backing_off``).
    await link_tries(slack, after=0.0, count=5, handshakes=5)
    (line,) = _refused_lines(caplog)
    assert line.levelno == logging.WARNING
    assert f"disconnect: {REASON}" in line.getMessage(), line.getMessage()
    problem = bot.handler.client.link_problem()
    assert problem is not None and REASON in problem, problem

    slack.refuse_links(reason=None)
    await linked_and_answering(slack, bot)
    backing_off(await link_tries(slack, after=0.0, count=6), first=PING)
    assert len(_refused_lines(caplog)) == 1


async def test_a_link_up_then_refused_for_an_unknown_reason_backs_off_too(
    slack: LocalSlack, start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """After a ``hello``, a refresh is taken at once; its link refused before a ``hello``
    of its own is a refusal all the same."""
    caplog.set_level(logging.INFO, logger="signoff.socket")
    bot = await start_bot(ping_interval=PING)
    await slack.wait_for_sockets(1, timeout=5)
    await until(lambda: bot.handler.client.link_problem() is None, what="the link up")
    slack.refuse_links(reason=REASON)
    since = slack.calls("apps.connections.open")[-1].at
    assert await slack.disconnect_sockets(reason="refresh_requested")
    await link_tries_backing_off(slack, after=since + 0.001, first=PING)
    assert len(_refused_lines(caplog)) == 1
    problem = bot.handler.client.link_problem()
    assert problem is not None and REASON in problem, problem
