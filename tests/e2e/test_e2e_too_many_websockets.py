"""The app already holds as many Socket Mode connections as Slack allows: said once, and
tried again less and less often.

Slack keeps at most 10 connections open for an app; the next one gets a ``disconnect``
frame with reason ``too_many_websockets`` and is closed (slackapi/node-slack-sdk#1654,
slackapi/bolt-js#2225): other processes run with the same app token (replicas, a
`signoff run` left behind on another host). slack_sdk reconnects at once on every
``disconnect``, so signoff asked Slack for a new link and was refused again, in a loop with
no pause: over a thousand ``apps.connections.open`` calls a second, with nothing at WARNING
saying why, and ``/readyz`` reading "no hello received". Now it is said once, what to do
with it, ``/readyz`` names it, and the link is tried as for ``link_disabled``: at once,
then after ``ping_interval``, doubling up to 30 of them; a slot set free is taken.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import aiohttp
import pytest
from signoff_e2e_kit import backing_off, link_tries, linked_and_answering, until
from slack_sdk.web.async_client import AsyncWebClient

from localslack import LocalSlack

if TYPE_CHECKING:
    from conftest import BotFactory

PING = 0.25  # the client's ping_interval: the first pause, doubling up to 30 of them


@contextlib.asynccontextmanager
async def other_processes(
    slack: LocalSlack, count: int
) -> AsyncIterator[list[aiohttp.ClientWebSocketResponse]]:
    """``count`` connections of the same app, each greeted, as other processes hold them."""
    app_client = AsyncWebClient(token=slack.app_token, base_url=slack.api_url)
    async with aiohttp.ClientSession() as session:
        held = []
        try:
            for _ in range(count):
                url = (await app_client.apps_connections_open(app_token=slack.app_token))["url"]
                ws = await session.ws_connect(url)
                assert (await ws.receive_json())["type"] == "hello"
                held.append(ws)
            yield held
        finally:
            for ws in held:
                await ws.close()


def _refused_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "signoff.socket"
        and r.levelno >= logging.WARNING
        and "too_many_websockets" in r.getMessage()
    ]


async def test_an_app_at_its_connection_limit_is_said_once_and_retried_ever_less_often(
    slack: LocalSlack, start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="signoff.socket")
    async with other_processes(slack, 10) as held:
        since = slack.calls("apps.connections.open")[-1].at
        bot = await start_bot(ping_interval=PING)
        # From the bot's first ask on: not the others' last one.
        # Five asks refused (after the others' ten handshakes); a slot frees before the
        # sixth, which links: its pause is checked with the rest (``backing_off``).
        await link_tries(slack, after=since + 0.001, count=5, handshakes=15)
        (line,) = _refused_lines(caplog)
        assert line.levelno == logging.WARNING
        assert "other processes" in line.getMessage(), line.getMessage()
        problem = bot.handler.client.link_problem()
        assert problem is not None and "too_many_websockets" in problem, problem

        await held.pop().close()  # one of the others stops: its slot is taken
        await linked_and_answering(slack, bot, sockets=10)
        backing_off(await link_tries(slack, after=since + 0.001, count=6), first=PING)
        assert len(_refused_lines(caplog)) == 1


async def test_another_process_on_the_app_token_is_said_once_at_hello(
    slack: LocalSlack, start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack splits an app's envelopes between its connections (``hello`` counts them:
    ``num_connections``). A second process on the same app token keeps a home of its own,
    so a thread's messages land apart, and an event delivered again may go to the other
    one and be answered twice; nothing said so. Now the first ``hello`` that counts more
    than this connection is said at WARNING, once while the count stays."""
    caplog.set_level(logging.INFO, logger="signoff.socket")

    def said() -> list[logging.LogRecord]:
        return [r for r in caplog.records if "num_connections" in r.getMessage()]

    async with other_processes(slack, 1):
        bot = await start_bot(ping_interval=PING)
        await until(lambda: bot.handler.client.link_problem() is None, what="the link up")
        await until(said, what="the warning")
        for links in (3, 4):  # refreshed links (the other's and the bot's first before)
            mine = str(slack.sockets()[-1]["id"])
            assert await slack.disconnect_sockets(reason="refresh_requested", socket_id=mine)
            await slack.wait_for_connections(links, timeout=10)
            await until(lambda: bot.handler.client.link_problem() is None, what="the link up")
    (line,) = said()
    assert line.levelno == logging.WARNING
    assert "2" in line.getMessage() and "SLACK_APP_TOKEN" in line.getMessage()


async def test_a_bot_alone_says_nothing_of_its_connections(
    slack: LocalSlack, bot: object, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="signoff.socket")
    assert await slack.disconnect_sockets(reason="refresh_requested")
    await slack.wait_for_connections(2, timeout=10)
    await slack.wait_for_sockets(1, timeout=5)
    assert not [r for r in caplog.records if "num_connections" in r.getMessage()]
