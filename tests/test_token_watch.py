"""What the bot token's readiness check takes from each Web API attempt."""

from __future__ import annotations

import asyncio

import aiohttp

from agent_core.observe import SlackApiCall
from bot.metrics import Metrics
from bot.ops_http import OpsServer
from bot.token_watch import BotTokenWatch
from bot.web_clients import web_client
from localslack import LocalSlack


async def test_a_refused_token_is_a_problem_until_a_call_with_it_succeeds() -> None:
    watch = BotTokenWatch()
    assert await watch.check() is None
    watch.emit(SlackApiCall(method="chat.postMessage", outcome="error", error="invalid_auth"))
    refused = await watch.check()
    assert refused is not None and "chat.postMessage: invalid_auth" in refused
    # Neither a 429, nor an error about something else, nor the app token's own call
    # (the Socket Mode link's, on the other token) says the bot token is taken again.
    watch.emit(SlackApiCall(method="chat.update", outcome="ratelimited", error="ratelimited"))
    watch.emit(SlackApiCall(method="chat.update", outcome="error", error="channel_not_found"))
    watch.emit(SlackApiCall(method="apps.connections.open", outcome="ok"))
    assert await watch.check() == refused
    watch.emit(SlackApiCall(method="reactions.add", outcome="ok"))
    assert await watch.check() is None


async def test_the_app_tokens_refusal_is_not_the_bot_tokens() -> None:
    watch = BotTokenWatch()
    watch.emit(SlackApiCall(method="apps.connections.open", outcome="error", error="invalid_auth"))
    assert await watch.check() is None  # the socket check reports the link


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_quiet_bot_asks_slack_about_its_token_at_most_once_a_period(
    slack: LocalSlack,
) -> None:
    """A bot with nothing to say makes no call that could be refused: without asking,
    /readyz said ready for as long as nobody wrote to it after the token was revoked."""
    ticks = Ticks()
    watch = BotTokenWatch(every=60.0, now=ticks)
    client = web_client(slack.bot_token, slack.api_url, observer=watch)
    watch.probe = client.auth_test
    assert await watch.check() is None  # asked: the token is taken
    assert len(slack.calls("auth.test")) == 1
    refused = slack.inject_fault(method="auth.test", error="token_revoked", count=None)
    ticks.now += 59.0
    assert await watch.check() is None and refused.fired == 0  # not yet a period since
    ticks.now += 1.0
    problem = await watch.check()
    assert problem is not None and "auth.test: token_revoked" in problem
    assert await watch.check() == problem and refused.fired == 1  # told once a period
    slack.clear_faults()
    ticks.now += 60.0
    assert await watch.check() is None  # taken again


async def test_a_probe_that_gets_no_answer_leaves_readiness_to_the_other_checks(
    slack: LocalSlack,
) -> None:
    """Slack unreachable is the socket check's to report; the probe never holds /readyz
    longer than its own timeout."""
    ticks = Ticks()
    watch = BotTokenWatch(every=60.0, within=0.2, now=ticks)

    async def hangs() -> object:
        await asyncio.Event().wait()
        return None

    watch.probe = hangs
    assert await asyncio.wait_for(watch.check(), timeout=5) is None


async def test_readiness_stays_ok_while_slack_does_not_answer_the_tokens_probe(
    slack: LocalSlack,
) -> None:
    """The probe's own bound must fit inside the one /readyz gives each check (2 s): at
    5 s, an auth.test that hung was cut by /readyz first, which answered 503 "slack: no
    answer within 2s" once a minute, though no answer is the socket check's to report."""
    ticks = Ticks()
    watch = BotTokenWatch(now=ticks)  # the bot's own bounds
    client = web_client(slack.bot_token, slack.api_url, observer=watch)
    watch.probe = client.auth_test
    ops = OpsServer(host="127.0.0.1", port=0, metrics=Metrics(), checks={"slack": watch.check})
    await ops.start()
    try:
        hung = slack.inject_fault(method="auth.test", hang=True, count=None)
        async with aiohttp.ClientSession() as http, http.get(ops.url + "/readyz") as response:
            assert (response.status, await response.json()) == (
                200,
                {"ready": True, "checks": {"slack": "ok"}, "problems": []},
            )
        assert hung.fired == 1
    finally:
        await ops.stop()
