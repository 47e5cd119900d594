"""A WebSocket upgrade that fails is tried again with a fresh URL, and said once.

``apps.connections.open`` gives a temporary URL, good for one connection (a used ticket is
refused). slack_sdk asks for one, and when the upgrade to it fails (an edge or a proxy in
the way answering 503) it tries the same URL again, every ``ping_interval``, forever: an
upgrade that failed after the ticket was taken left the bot without a link for good,
``/readyz`` reading "not connected yet", and slack_sdk logging an ERROR with a traceback
(and the URL, ticket and all) each time. Now each retry asks Slack for a fresh URL, the
failure is said once at WARNING, and the link comes back as soon as an upgrade works.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pytest
from signoff_e2e_kit import OPS, mention, until

from localslack import LocalSlack

if TYPE_CHECKING:
    from conftest import BotFactory


async def test_a_failed_upgrade_is_retried_with_a_fresh_url_and_said_once(
    slack: LocalSlack, start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    bot = await start_bot(ping_interval=0.2)
    await slack.wait_for_sockets(1, timeout=5)
    since = len(caplog.records)
    slack.fail_handshakes(count=3, status=503)
    assert slack.drop_sockets() == ["socket-1"]

    await slack.wait_for_sockets(1, timeout=10)
    await until(lambda: bot.handler.client.link_problem() is None, what="the link up again")
    logged = caplog.records[since:]
    told = [r for r in logged if r.name == "signoff.socket" and "503" in r.getMessage()]
    assert [r.levelno for r in told] == [logging.WARNING], [r.getMessage() for r in logged]
    assert "ticket=" not in told[0].getMessage()  # the URL is a credential while it lasts
    failed = [r for r in logged if r.levelno >= logging.ERROR or r.exc_info]
    assert not failed, [r.getMessage() for r in failed]
    thread = await mention(slack, "status of api")
    await slack.wait_for_message(channel=OPS, thread_ts=thread, from_bot=True, timeout=10)
