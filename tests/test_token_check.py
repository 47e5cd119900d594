"""Which answers of ``apps.connections.open`` refuse the app token for good (start-up ends)
and which may pass (the Socket Mode client retries), as slack_sdk reports them from the
wire: docs/operations.md promises that a passing error is retried."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import ConfigError
from bot.token_check import app_token_refusal, who_am_i


@pytest.fixture
async def slack_api() -> AsyncIterator[tuple[str, list[web.Response]]]:
    """A Slack Web API whose ``apps.connections.open`` gives the answers queued in the list."""
    answers: list[web.Response] = []

    async def connections_open(request: web.Request) -> web.Response:
        return answers.pop(0)

    app = web.Application()
    app.router.add_post("/api/apps.connections.open", connections_open)
    app.router.add_post("/api/auth.test", connections_open)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/api/", answers
    finally:
        await runner.cleanup()


async def _refusal(base_url: str) -> str | None:
    client = AsyncWebClient(base_url=base_url)
    with pytest.raises(SlackApiError) as failed:
        await client.apps_connections_open(app_token="xapp-1-A0-1-x")
    return app_token_refusal(failed.value)


async def test_an_outage_page_from_slack_is_not_a_refused_token(
    slack_api: tuple[str, list[web.Response]],
) -> None:
    url, answers = slack_api
    for status in (500, 502, 503):
        # What Slack's edge answers while it is down: HTML, no "error" to read.
        answers.append(
            web.Response(status=status, text="<html>down</html>", content_type="text/html")
        )
        assert await _refusal(url) is None, status


async def test_invalid_auth_refuses_the_app_token(
    slack_api: tuple[str, list[web.Response]],
) -> None:
    url, answers = slack_api
    answers.append(web.json_response({"ok": False, "error": "invalid_auth"}))
    assert await _refusal(url) == (
        "Slack refused SLACK_APP_TOKEN (apps.connections.open: invalid_auth)"
    )


async def test_the_bot_token_is_refused_or_not_checked_as_slack_answers(
    slack_api: tuple[str, list[web.Response]],
) -> None:
    url, answers = slack_api
    client = AsyncWebClient(base_url=url, token="xoxb-1-x")
    answers.append(web.json_response({"ok": False, "error": "invalid_auth"}))
    with pytest.raises(
        ConfigError, match=r"^Slack refused SLACK_BOT_TOKEN \(auth.test: invalid_auth\)"
    ):
        await who_am_i(client)
    # An outage is no verdict on the token: start-up still ends, saying what happened.
    answers.append(web.Response(status=503, text="<html>down</html>", content_type="text/html"))
    with pytest.raises(ConfigError, match=r"^could not check SLACK_BOT_TOKEN: .*HTTP 503"):
        await who_am_i(client)
    # Nor is an answer cut short mid-JSON (slack_sdk then holds aiohttp's own response,
    # which has no .get: reading it raised AttributeError, a traceback at start-up).
    answers.append(web.Response(status=200, text='{"ok": tr', content_type="application/json"))
    with pytest.raises(ConfigError, match=r"^could not check SLACK_BOT_TOKEN: .*HTTP 200"):
        await who_am_i(client)
    answers.append(web.Response(status=200, text='{"ok": tr', content_type="application/json"))
    assert await _refusal(url) is None
    answers.append(web.json_response({"ok": True, "user_id": "U0BOT", "bot_id": "B0BOT"}))
    assert (await who_am_i(client))["user_id"] == "U0BOT"


@pytest.fixture
async def silent_api() -> AsyncIterator[str]:
    """A Web API that takes connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/api/"
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_a_slack_that_does_not_answer_or_cannot_be_reached_is_named(
    silent_api: str,
) -> None:
    # An unanswered auth.test was "signoff: error: " and nothing more (a TimeoutError,
    # whose text is empty); one that could not connect gave the socket's words alone.
    client = AsyncWebClient(base_url=silent_api, token="xoxb-1-x", timeout=1)
    with pytest.raises(ConfigError, match=r"^could not reach Slack at http://127") as raised:
        await who_am_i(client)
    assert "SLACK_API_URL" in str(raised.value)
    assert "no answer within 1 s (SIGNOFF_SLACK_TIMEOUT_S)" in str(raised.value)
    with socket.socket() as unused:  # bound, never listening: connections are refused
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
        client = AsyncWebClient(base_url=f"http://127.0.0.1:{port}/api/", token="xoxb-1-x")
        with pytest.raises(ConfigError, match=r"^could not reach Slack at http://127"):
            await who_am_i(client)
