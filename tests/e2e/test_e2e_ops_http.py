"""Operators' HTTP on a running bot: readiness follows the Socket Mode link, and /metrics
(parsed with prometheus_client's own parser) moves with what the bot does.

The bot is the real one (Bolt, slack_sdk) against LocalSlack; the link is cut the way a
network cuts it (``drop_sockets``: a TCP abort, no close frame).
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from signoff_e2e_kit import OPS, approval_id_of, bot_reply, mention, until, wait_card

from bot.app import SignoffBot
from bot.cards import APPROVE
from bot.config import Settings
from bot.logs import setup_logging
from localslack import LocalSlack
from sessions import ThreadKey

if TYPE_CHECKING:
    from conftest import BotFactory


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def get(bot: SignoffBot, path: str) -> tuple[int, Any]:
    assert bot.ops is not None
    async with (
        aiohttp.ClientSession() as http,
        http.get(bot.ops.url + path, timeout=aiohttp.ClientTimeout(total=5)) as response,
    ):
        if response.content_type == "application/json":
            return response.status, await response.json()
        return response.status, await response.text()


async def scrape(bot: SignoffBot) -> Samples:
    status, text = await get(bot, "/metrics")
    assert status == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def ready_status(bot: SignoffBot) -> int:
    status, _ = await get(bot, "/readyz")
    return status


async def wait_status(bot: SignoffBot, expected: int, timeout: float = 15) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while (status := await ready_status(bot)) != expected:
        assert asyncio.get_running_loop().time() < deadline, f"/readyz stayed {status}"
        await asyncio.sleep(0.05)


async def test_readyz_fails_while_the_socket_is_down_and_recovers_after_the_reconnect(
    slack: LocalSlack, start_bot: BotFactory
) -> None:
    bot: SignoffBot = await start_bot(ping_interval=1)
    await slack.wait_for_sockets(1, timeout=5)
    await wait_status(bot, 200)
    status, body = await get(bot, "/readyz")
    assert body == {
        "ready": True,
        "checks": {"socket": "ok", "home": "ok", "index": "ok", "slack": "ok", "delivery": "ok"},
        "problems": [],
    }
    assert value(await scrape(bot), "signoff_socket_connected") == 1

    assert slack.drop_sockets() == ["socket-1"]
    await wait_status(bot, 503)
    status, body = await get(bot, "/readyz")
    assert status == 503 and body["ready"] is False
    assert body["checks"]["home"] == "ok" and body["checks"]["index"] == "ok"
    assert body["checks"]["socket"].startswith("socket mode:")
    assert body["problems"] == [body["checks"]["socket"]]
    assert (await get(bot, "/healthz"))[0] == 200  # alive, just not ready

    await slack.wait_for_connections(2, timeout=15)
    await wait_status(bot, 200)
    assert value(await scrape(bot), "signoff_socket_connected") == 1
    # And it carries messages again.
    thread = await mention(slack, "status of api")
    await bot_reply(slack, thread, "service=api,")


async def test_readyz_fails_while_slack_refuses_the_bot_token_and_nothing_is_lost(
    slack: LocalSlack, start_bot: BotFactory
) -> None:
    """A token revoked after start-up (the app uninstalled, rotated): every Web API call
    is refused while the Socket Mode link, on the app token, stays up. /readyz said ready
    all along; it names the refusal, and the reply waits in the outbox until Slack takes
    the token again."""
    bot: SignoffBot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    await wait_status(bot, 200)
    refused = slack.inject_fault(method="*", error="token_revoked", count=None)
    thread = await mention(slack, "status of api")
    await wait_status(bot, 503)
    status, body = await get(bot, "/readyz")
    assert body["checks"]["socket"] == "ok", body  # the link is up: only the token is refused
    assert (
        "token_revoked" in body["checks"]["slack"] and "SLACK_BOT_TOKEN" in body["checks"]["slack"]
    )
    assert body["problems"] == [body["checks"]["slack"]]
    assert refused.fired >= 1 and not slack.thread(channel=OPS, ts=thread)[1:]

    slack.clear_faults()  # taken again (a reinstall keeping this token, for the test)
    await bot_reply(slack, thread, "service=api,")
    await wait_status(bot, 200)


# Another process (an operator's sqlite3 shell, a stuck tool) in a write transaction.
HOLD_INDEX = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("held", flush=True)
sys.stdin.read()
"""


async def test_readyz_fails_while_another_process_holds_the_index_locked(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings
) -> None:
    # Every turn stops on such an index ("worker ... stopped on the index; retrying"), yet
    # the check was SELECT 1 on the bot's own connection, which touches no file: ready.
    bot: SignoffBot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    await wait_status(bot, 200)
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLD_INDEX, str(settings.home / "index.sqlite3"),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and await holder.stdout.readline() == b"held\n"
        status, body = await get(bot, "/readyz")
        assert status == 503, body
        assert "locked" in body["checks"]["index"], body
        assert (body["checks"]["socket"], body["checks"]["home"]) == ("ok", "ok")
    finally:
        holder.kill()
        await holder.wait()
    status, body = await get(bot, "/readyz")
    assert (status, body["checks"]["index"]) == (200, "ok")


async def test_metrics_answer_within_a_scrape_timeout_while_the_index_is_locked(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings
) -> None:
    """The state gauges are counted on the bot's own index connection, behind its writes,
    and a write waits up to sqlite's busy timeout (5 s) each for another process's lock:
    a scrape took 10 s and more, past Prometheus's default scrape timeout, so the series
    that need no index (Slack errors, events) were lost with no word of why. It answers
    503 within 2 s, saying why, as /readyz does."""
    bot: SignoffBot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    await wait_status(bot, 200)
    assert bot.ops is not None
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLD_INDEX, str(settings.home / "index.sqlite3"),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    write: asyncio.Task[None] | None = None
    try:
        assert holder.stdout is not None and await holder.stdout.readline() == b"held\n"
        # A turn's write, queued on the bot's connection ahead of the scrape.
        write = asyncio.create_task(
            bot.engine.rt.index.put_thread(
                ThreadKey(team="T0", channel=OPS, thread_ts="1.2"), None, "x"
            )
        )
        await asyncio.sleep(0)
        async with (
            aiohttp.ClientSession() as http,
            http.get(bot.ops.url + "/metrics", timeout=aiohttp.ClientTimeout(total=4)) as response,
        ):
            assert response.status == 503, await response.text()
            assert "index" in await response.text()
    finally:
        holder.kill()
        await holder.wait()
        if write is not None:
            await write
    await scrape(bot)  # 200 again once the lock is gone


async def test_stop_turns_readiness_off_and_closes_the_port(
    slack: LocalSlack, start_bot: BotFactory
) -> None:
    bot: SignoffBot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    await wait_status(bot, 200)
    assert bot.ops is not None
    url = bot.ops.url
    await bot.stop(grace=1)
    async with aiohttp.ClientSession() as http:
        try:
            async with http.get(url + "/healthz") as response:
                raise AssertionError(f"still serving after stop: {response.status}")
        except aiohttp.ClientConnectionError:
            pass


async def test_metrics_move_with_a_mention_an_approval_and_a_tool_call(
    slack: LocalSlack, start_bot: BotFactory
) -> None:
    bot: SignoffBot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    before = await scrape(bot)
    assert value(before, "signoff_events_total", type="app_mention", outcome="stored") == 0
    assert value(before, "signoff_approvals_pending") == 0
    assert value(before, "signoff_approvals_total", outcome="requested") == 0  # exists at 0
    assert ("signoff_approvals_total", (("outcome", "expired"),)) in before

    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    await bot.engine.idle()
    parked = await scrape(bot)
    # A mention arrives as app_mention and as its message twin: one stored (the other a
    # duplicate, or ignored when it came before the thread was known).
    assert (
        value(parked, "signoff_events_total", type="app_mention", outcome="stored")
        + value(parked, "signoff_events_total", type="message", outcome="stored")
        == 1
    )
    assert value(parked, "signoff_ack_seconds_count") >= 1
    assert (
        0
        < value(parked, "signoff_ack_seconds_sum")
        < value(parked, "signoff_ack_seconds_count") * 3
    )
    assert (
        value(parked, "signoff_slack_api_calls_total", method="chat.postMessage", outcome="ok") >= 1
    )
    assert value(parked, "signoff_slack_api_calls_total", method="auth.test", outcome="ok") == 1
    assert value(parked, "signoff_approvals_pending") == 1
    assert value(parked, "signoff_sessions", state="awaiting_approval") == 1
    # What the engine reports: the request, the model turn, the card.
    assert value(parked, "signoff_approvals_total", outcome="requested") == 1
    assert value(parked, "signoff_model_calls_total", provider="offline", outcome="ok") == 1
    assert value(parked, "signoff_model_tokens_total", provider="offline", direction="input") > 0
    assert value(parked, "signoff_outbox_depth") == 0

    # A rate limit on the next post: counted apart, then the retry succeeds.
    slack.inject_fault(method="chat.postMessage", status=429, retry_after=1, count=1)
    await slack.click_button(channel="C0OPS", ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await bot_reply(slack, thread, "restart_service` finished")
    await bot.engine.idle()
    after = await scrape(bot)
    assert value(after, "signoff_approvals_pending") == 0
    assert value(after, "signoff_sessions", state="completed") >= 1
    # States are final: the session that parked stays counted as it ended (operations.md).
    assert value(after, "signoff_sessions", state="awaiting_approval") == 1
    assert value(after, "signoff_slack_api_calls_total", method="chat.update", outcome="ok") >= 1
    assert (
        value(
            after, "signoff_slack_api_calls_total", method="chat.postMessage", outcome="ratelimited"
        )
        == 1
    )
    assert value(after, "signoff_ack_seconds_count") > value(parked, "signoff_ack_seconds_count")
    assert value(after, "signoff_approvals_total", outcome="approved") == 1
    assert value(after, "signoff_approval_wait_seconds_count") == 1
    assert value(after, "signoff_tool_calls_total", tool="restart_service", outcome="ok") == 1
    assert value(after, "signoff_model_calls_total", provider="offline", outcome="ok") == 2
    assert approval_id_of(card).startswith("appr_")


async def test_events_for_other_threads_are_counted_as_ignored(
    slack: LocalSlack, start_bot: BotFactory
) -> None:
    bot: SignoffBot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    # A plain channel message, not in a thread signoff takes part in.
    await slack.post_message(channel="C0OPS", user="U0ALICE", text="lunch?")

    async def ignored() -> float:
        return value(await scrape(bot), "signoff_events_total", type="message", outcome="ignored")

    deadline = asyncio.get_running_loop().time() + 10
    while await ignored() < 1:
        assert asyncio.get_running_loop().time() < deadline, "the message was never counted"
        await asyncio.sleep(0.05)
    assert value(await scrape(bot), "signoff_events_total", type="message", outcome="stored") == 0


async def test_bolt_leaves_signoffs_loggers_alone(start_bot: BotFactory, slack: LocalSlack) -> None:
    """For each request Bolt configures a logger named after its app, copying its own
    level, disabled flag and handlers: were that ``signoff``, it would override every
    ``signoff.*`` logger."""
    ours = logging.getLogger("signoff")
    before = (ours.level, ours.disabled, list(ours.handlers))
    await start_bot()
    interaction = await slack.slash_command(
        command="/signoff", user="U0ALICE", channel=OPS, text="help"
    )
    await slack.wait_for_ack(interaction.envelope_id)
    # Bolt has dispatched it once it answered (the ack comes before Bolt runs).
    await slack.wait_for_ephemeral(user="U0ALICE", text_contains="/signoff trace")
    assert (ours.level, ours.disabled, list(ours.handlers)) == before


async def test_bolts_loggers_keep_the_floor_the_logs_set_them(
    start_bot: BotFactory, slack: LocalSlack
) -> None:
    """``setup_logging`` keeps ``slack_bolt`` at ERROR (its warnings quote whole payloads,
    message text included); Bolt gives every logger it makes the root's level unless it is
    handed a logger to copy, so the app hands it ``slack_bolt``."""
    root, bolt = logging.getLogger(), logging.getLogger("slack_bolt")
    saved = (list(root.handlers), root.level, bolt.level)
    setup_logging(format="json", level="INFO", stream=io.StringIO())
    try:
        bot = await start_bot()
        interaction = await slack.slash_command(
            command="/signoff", user="U0ALICE", channel=OPS, text="help"
        )
        await slack.wait_for_ack(interaction.envelope_id)
        # Bolt made the request's loggers once it answered (the ack comes before Bolt runs).
        await slack.wait_for_ephemeral(user="U0ALICE", text_contains="/signoff trace")
        for logger in (bot.app.logger, logging.getLogger(bot.app.name)):
            assert not logger.isEnabledFor(logging.WARNING), logger.name
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        bolt.setLevel(saved[2])


async def test_a_malformed_request_is_answered_400_without_an_error_in_the_log(
    bot: SignoffBot,
) -> None:
    """A header past aiohttp's 8 KiB (a browser's cookies for localhost, a scanner) was an
    ERROR with a traceback for each request: the client's mistake, paged as the bot's.
    aiohttp itself keeps the commonest such request (TLS to a plain port) at DEBUG."""
    assert bot.ops is not None
    root, aiohttp_server = logging.getLogger(), logging.getLogger("aiohttp.server")
    saved = (list(root.handlers), root.level, aiohttp_server.level)
    stream = io.StringIO()
    setup_logging(format="json", level="INFO", stream=stream)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", bot.ops.port)
        writer.write(b"GET /metrics HTTP/1.1\r\nHost: x\r\nCookie: " + b"a" * 10_000 + b"\r\n\r\n")
        await writer.drain()
        assert (await reader.readline()).startswith(b"HTTP/1.0 400 ")
        writer.close()
        assert (await get(bot, "/healthz"))[0] == 200  # served on
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        aiohttp_server.setLevel(saved[2])
    assert "aiohttp.server" not in stream.getvalue()


async def test_why_slack_closed_the_link_is_logged_with_its_reason(
    slack: LocalSlack, bot: SignoffBot, caplog: pytest.LogCaptureFixture
) -> None:
    """A ``disconnect`` frame names why (``link_disabled``: Socket Mode was turned off in
    the app's settings; ``refresh_requested``: routine; ``warning``: a refresh in about
    10 s, all three in docs.slack.dev/apis/events-api/using-socket-mode;
    ``too_many_websockets``, past 10 connections, in slackapi/bolt-js#2225): the
    operator's socket_down line says so, not just "reconnecting"; for a routine refresh,
    read on until Slack closes the link, its socket_handover line."""
    caplog.set_level(logging.INFO, logger="signoff.events")

    def said() -> list[str]:
        return [
            str(getattr(r, "signoff_fields", {}).get("reason"))
            for r in caplog.records
            if r.getMessage() in ("socket_down", "socket_handover")
        ]

    reasons = ("link_disabled", "refresh_requested", "warning", "too_many_websockets")
    for connections, reason in enumerate(reasons, start=2):
        assert await slack.disconnect_sockets(reason=reason)
        await slack.wait_for_connections(connections, timeout=10)
        line = f"disconnect: {reason}"
        await until(lambda: line in said(), what=line)  # noqa: B023 - awaited here


async def test_metrics_answer_503_without_a_traceback_once_the_index_is_closed(
    slack: LocalSlack, bot: SignoffBot, caplog: pytest.LogCaptureFixture
) -> None:
    """On the way out the engine closes the index, and the operator's HTTP stops only
    after the live streams are drained (up to 2 s): a scrape in between answered 500, with
    aiohttp's ERROR and a traceback in the log."""
    caplog.set_level(logging.INFO)
    await bot.engine.close()  # where SignoffBot.stop closes it, before the port closes
    before = len(caplog.records)
    for _ in range(2):
        status, text = await get(bot, "/metrics")
        assert status == 503, text
        assert "index" in text
    logged = caplog.records[before:]
    assert not [r for r in logged if r.levelno >= logging.ERROR or r.exc_info], logged
    assert len(logged) <= 1, [r.getMessage() for r in logged]
    status, body = await get(bot, "/readyz")  # readiness says so too, as cleanly
    assert status == 503 and "index" in body["checks"]["index"], body
    await bot.stop(grace=1)


async def test_a_lost_link_is_logged_when_it_is_lost_not_when_it_is_back(
    slack: LocalSlack, start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """The link dropped while Slack gives no new one (apps.connections.open failing, as in
    an outage): socket_down was written only by the reconnect that finally worked, so for
    the whole outage the log said nothing of it, and then dated the loss at its end."""
    caplog.set_level(logging.INFO, logger="signoff.events")

    def lines(event: str) -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.getMessage() == event]

    bot: SignoffBot = await start_bot(ping_interval=0.2)
    await slack.wait_for_sockets(1, timeout=5)
    outage = slack.inject_fault(method="apps.connections.open", error="internal_error", count=None)
    assert slack.drop_sockets() == ["socket-1"]
    await until(lambda: len(slack.calls("apps.connections.open")) >= 3, what="failed reconnects")
    assert await ready_status(bot) == 503
    (down,) = lines("socket_down")  # said while it is down, once
    assert down.levelno == logging.WARNING
    assert lines("socket_up") and len(lines("socket_up")) == 1

    slack.remove_fault(outage)
    await slack.wait_for_connections(2, timeout=10)
    await wait_status(bot, 200)
    await until(lambda: len(lines("socket_up")) == 2, what="socket_up after the outage")
    assert len(lines("socket_down")) == 1  # the same loss is not told again
