"""Socket Mode behaviour with slack_sdk's aiohttp SocketModeClient (and raw websockets)."""

from __future__ import annotations

import asyncio
import dataclasses
import json

import aiohttp
import pytest
from localslack_testkit import Inbox, close_client, connect_socket_client
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.web.async_client import AsyncWebClient

from localslack import LocalSlack, Timing, WorkspaceConfig


async def test_hello_then_events_are_delivered_and_acked(
    slack: LocalSlack, inbox: Inbox, socket_client: SocketModeClient
) -> None:
    await inbox.wait_until(lambda: bool(inbox.frames))
    hello = inbox.frames[0]
    assert hello["type"] == "hello"
    assert hello["num_connections"] == 1
    assert hello["connection_info"] == {"app_id": "A0SIGNOFF"}

    ts = await slack.post_message(channel="C0GENERAL", user="U0BOB", text="plain chatter")
    await inbox.wait_until(lambda: bool(inbox.events("message")))
    [body] = inbox.events("message")
    assert body["type"] == "event_callback"
    assert body["api_app_id"] == "A0SIGNOFF"
    assert body["team_id"] == "T0LOCAL"
    assert body["token"] == slack.config.verification_token
    assert body["event_id"].startswith("Ev")
    assert isinstance(body["event_time"], int)
    assert body["authorizations"][0]["user_id"] == "U0SIGNOFF"
    event = body["event"]
    assert (event["user"], event["ts"], event["channel"]) == ("U0BOB", ts, "C0GENERAL")
    assert event["channel_type"] == "channel"
    assert event["event_ts"] == ts
    assert "client_msg_id" in event
    assert "thread_ts" not in event

    envelope = inbox.requests[0]
    assert envelope.accepts_response_payload is False
    assert envelope.retry_attempt == 0
    assert envelope.retry_reason == ""
    delivery = await slack.wait_for_ack(envelope.envelope_id)
    assert delivery.event_id == body["event_id"]
    assert delivery.ack_payload is None
    # Nobody mentioned the bot, so there is no app_mention.
    assert inbox.events("app_mention") == []


async def test_mention_yields_message_and_app_mention(
    slack: LocalSlack, inbox: Inbox, socket_client: SocketModeClient
) -> None:
    ts = await slack.post_message(
        channel="C0GENERAL", user="U0ALICE", text="<@U0SIGNOFF> restart the canary"
    )
    await inbox.wait_until(lambda: bool(inbox.events("message") and inbox.events("app_mention")))
    [message] = inbox.events("message")
    [mention] = inbox.events("app_mention")
    assert message["event_id"] != mention["event_id"]
    assert mention["event"]["ts"] == message["event"]["ts"] == ts
    assert mention["event"]["text"] == "<@U0SIGNOFF> restart the canary"
    assert mention["event"]["user"] == "U0ALICE"
    assert "thread_ts" not in mention["event"]

    reply_ts = await slack.post_message(
        channel="C0GENERAL", user="U0BOB", text="<@U0SIGNOFF> me too", thread_ts=ts
    )
    await inbox.wait_until(
        lambda: len(inbox.events("app_mention")) == 2 and len(inbox.events("message")) == 2
    )
    threaded = inbox.events("app_mention")[1]["event"]
    assert threaded["thread_ts"] == ts
    assert threaded["ts"] == reply_ts
    threaded_message = inbox.events("message")[1]["event"]
    assert threaded_message["thread_ts"] == ts
    assert threaded_message["parent_user_id"] == "U0ALICE"


async def test_subscriptions_and_membership_filter_events(
    slack: LocalSlack, inbox: Inbox, socket_client: SocketModeClient
) -> None:
    # The bot is not in #random, so nothing arrives from there even with a mention.
    await slack.post_message(channel="C0RANDOM", user="U0ALICE", text="<@U0SIGNOFF> hello?")
    await slack.post_message(channel="C0GENERAL", user="U0ALICE", text="marker")
    await inbox.wait_until(lambda: bool(inbox.events("message")))
    assert [e["event"]["channel"] for e in inbox.events("message")] == ["C0GENERAL"]
    assert inbox.events("app_mention") == []


async def test_bot_posts_are_echoed_with_bot_id(
    slack: LocalSlack, web: AsyncWebClient, inbox: Inbox, socket_client: SocketModeClient
) -> None:
    posted = await web.chat_postMessage(channel="C0OPS", text="hello from the bot")
    await inbox.wait_until(lambda: bool(inbox.events("message")))
    event = inbox.events("message")[0]["event"]
    assert event["bot_id"] == "B0SIGNOFF"
    assert event["user"] == "U0SIGNOFF"
    assert event["app_id"] == "A0SIGNOFF"
    assert event["ts"] == posted["ts"]
    # Even a bot post mentioning itself is no app_mention.
    await web.chat_postMessage(channel="C0OPS", text="<@U0SIGNOFF> talking to myself")
    await inbox.wait_until(lambda: len(inbox.events("message")) == 2)
    assert inbox.events("app_mention") == []


async def test_unacked_events_are_redelivered_three_times(config: WorkspaceConfig) -> None:
    quick = dataclasses.replace(config, timing=Timing(ack_timeout=0.15, server_ping_interval=None))
    async with LocalSlack(quick) as slack:
        await check_redelivery(slack)


async def check_redelivery(slack: LocalSlack) -> None:
    silent = Inbox(ack=False)
    client = await connect_socket_client(slack, silent)
    try:
        await slack.post_message(channel="C0OPS", user="U0BOB", text="anyone?")
        await silent.wait_until(lambda: len(silent.requests) == 4)
        first = slack.deliveries(type="events_api")[0]
        await slack.wait_for_delivery(lambda d: d.retry_attempt == 3 and d.timed_out, timeout=2.0)
        # No fifth attempt after the last retry times out.
        await asyncio.sleep(slack.config.timing.ack_timeout / 2)
        assert len(silent.requests) == 4
    finally:
        await close_client(client)
    assert [r.retry_attempt for r in silent.requests] == [0, 1, 2, 3]
    assert [r.retry_reason for r in silent.requests] == ["", "timeout", "timeout", "timeout"]
    assert {r.payload["event_id"] for r in silent.requests} == {first.event_id}
    assert len({r.envelope_id for r in silent.requests}) == 4
    assert all(d.timed_out and not d.acked for d in slack.deliveries(type="events_api"))


async def test_ack_on_a_retry_stops_further_retries(slack: LocalSlack) -> None:
    acking_second = Inbox(ack=False)
    client = await connect_socket_client(slack, acking_second)
    try:
        await slack.post_message(channel="C0OPS", user="U0BOB", text="ack the retry")
        await acking_second.wait_until(lambda: len(acking_second.requests) == 2)
        retry = acking_second.requests[1]
        await client.send_socket_mode_response({"envelope_id": retry.envelope_id})
        acked = await slack.wait_for_ack(retry.envelope_id)
        assert acked.retry_attempt == 1
        await asyncio.sleep(slack.config.timing.ack_timeout * 1.5)
        assert len(acking_second.requests) == 2
    finally:
        await close_client(client)


async def test_refresh_requested_makes_the_client_reconnect(
    slack: LocalSlack, inbox: Inbox, socket_client: SocketModeClient
) -> None:
    assert len(slack.calls("apps.connections.open")) == 1
    [old] = slack.sockets()
    sent_to = await slack.disconnect_sockets(reason="refresh_requested")
    assert sent_to == [old["id"]]
    # The old socket is draining, so this waits for the replacement connection.
    await slack.wait_for_sockets(1)
    assert len(slack.calls("apps.connections.open")) == 2
    assert [s["id"] for s in slack.sockets() if not s["draining"]] != [old["id"]]
    # The new socket carries traffic.
    await slack.post_message(channel="C0OPS", user="U0BOB", text="after refresh")
    await inbox.wait_until(lambda: bool(inbox.events("message")))
    assert slack.deliveries(type="events_api")[-1].socket_id != old["id"]


async def test_disconnect_frames_on_the_wire(slack: LocalSlack) -> None:
    app_client = AsyncWebClient(token=slack.app_token, base_url=slack.api_url)
    url = (await app_client.apps_connections_open(app_token=slack.app_token))["url"]
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await ws.receive()  # hello
        for reason in ("warning", "link_disabled"):
            await slack.disconnect_sockets(reason=reason)
            frame = json.loads((await ws.receive(timeout=2)).data)
            assert frame["type"] == "disconnect"
            assert frame["reason"] == reason
        await slack.disconnect_sockets(reason="refresh_requested", close_after=0.05)
        assert json.loads((await ws.receive(timeout=2)).data)["reason"] == "refresh_requested"
        closing = await ws.receive(timeout=2)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_a_refresh_may_keep_a_link_delivering_and_an_ack_names_its_socket(
    slack: LocalSlack,
) -> None:
    """Slack may send on a link it asked to refresh until it closes it (``drain=False``);
    it takes an ack on any of the app's links, and the delivery says which one."""
    app_client = AsyncWebClient(token=slack.app_token, base_url=slack.api_url)
    url = (await app_client.apps_connections_open(app_token=slack.app_token))["url"]
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await ws.receive()  # hello
        (socket_id,) = [str(s["id"]) for s in slack.sockets()]
        await slack.disconnect_sockets(reason="refresh_requested", drain=False)
        assert json.loads((await ws.receive(timeout=2)).data)["reason"] == "refresh_requested"
        await slack.post_message(channel="C0OPS", user="U0BOB", text="still here")
        envelope = json.loads((await ws.receive(timeout=2)).data)
        await ws.send_str(json.dumps({"envelope_id": envelope["envelope_id"]}))
        done = await slack.wait_for_ack(envelope["envelope_id"])
        assert done.socket_id == socket_id
        assert done.acked_on == socket_id


async def test_close_sockets_closes_a_link_with_a_close_frame(slack: LocalSlack) -> None:
    app_client = AsyncWebClient(token=slack.app_token, base_url=slack.api_url)
    url = (await app_client.apps_connections_open(app_token=slack.app_token))["url"]
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await ws.receive()  # hello
        (socket_id,) = [str(s["id"]) for s in slack.sockets()]
        assert await slack.close_sockets(socket_id="socket-none") == []
        assert await slack.close_sockets(socket_id=socket_id) == [socket_id]
        closing = await ws.receive(timeout=2)
        assert closing.type == aiohttp.WSMsgType.CLOSE  # Slack's own close, not a drop


async def test_abrupt_drop_reconnects_and_queued_events_flow(slack: LocalSlack) -> None:
    inbox = Inbox()
    client = await connect_socket_client(slack, inbox, ping_interval=0.2)
    try:
        dropped = slack.drop_sockets()
        assert len(dropped) == 1
        assert slack.sockets() == []
        # Posted while nobody is connected: held until the client comes back.
        await slack.post_message(channel="C0OPS", user="U0BOB", text="while you were away")
        assert slack.deliveries(type="events_api")[0].status == "queued"
        await inbox.wait_until(lambda: bool(inbox.events("message")), timeout=5)
        assert len(slack.calls("apps.connections.open")) >= 2
        delivery = await slack.wait_for_ack(inbox.requests[0].envelope_id)
        assert delivery.status == "acked"
        assert delivery.retry_attempt == 0
    finally:
        await close_client(client)


async def test_eleventh_socket_gets_too_many_websockets(
    slack: LocalSlack, web: AsyncWebClient
) -> None:
    app_client = AsyncWebClient(token=slack.app_token, base_url=slack.api_url)
    async with aiohttp.ClientSession() as session:
        sockets = []
        for _ in range(10):
            url = (await app_client.apps_connections_open(app_token=slack.app_token))["url"]
            ws = await session.ws_connect(url)
            assert json.loads((await ws.receive()).data)["type"] == "hello"
            sockets.append(ws)
        assert len(slack.sockets()) == 10
        url = (await app_client.apps_connections_open(app_token=slack.app_token))["url"]
        extra = await session.ws_connect(url)
        frame = json.loads((await extra.receive()).data)
        assert frame == {
            "type": "disconnect",
            "reason": "too_many_websockets",
            "debug_info": {"host": "applink-localslack"},
        }
        assert len(slack.sockets()) == 10
        # Tickets are single use.
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await session.ws_connect(url)
        for ws in [*sockets, extra]:
            await ws.close()


async def test_server_answers_pings(slack: LocalSlack) -> None:
    app_client = AsyncWebClient(token=slack.app_token, base_url=slack.api_url)
    url = (await app_client.apps_connections_open(app_token=slack.app_token))["url"]
    assert url.startswith(f"ws://127.0.0.1:{slack.port}/link/?ticket=")
    async with aiohttp.ClientSession() as session, session.ws_connect(url, autoping=False) as ws:
        await ws.receive()  # hello
        await ws.ping(b"sdk-ping-pong:123")
        pong = await ws.receive(timeout=2)
        assert pong.type == aiohttp.WSMsgType.PONG
        assert pong.data == b"sdk-ping-pong:123"


async def test_deliveries_round_robin_across_sockets(config: WorkspaceConfig) -> None:
    async with LocalSlack(dataclasses.replace(config, delivery="round_robin")) as slack:
        first, second = Inbox(), Inbox()
        clients = [await connect_socket_client(slack, first)]
        clients.append(await connect_socket_client(slack, second))
        try:
            await slack.wait_for_sockets(2)
            for i in range(4):
                await slack.post_message(channel="C0OPS", user="U0BOB", text=f"m{i}")
            await first.wait_until(lambda: len(first.requests) + len(second.requests) == 4)
            assert len(first.requests) == len(second.requests) == 2
        finally:
            for client in clients:
                await close_client(client)


async def test_unacked_interaction_means_user_saw_error(
    slack: LocalSlack, web: AsyncWebClient
) -> None:
    silent = Inbox(ack=False)
    client = await connect_socket_client(slack, silent)
    try:
        await slack.slash_command(command="/trace", user="U0ALICE", channel="C0OPS", text="abc")
        delivery = await slack.wait_for_delivery(lambda d: d.timed_out, timeout=2)
        assert delivery.type == "slash_commands"
        assert delivery.user_saw_error is True
        assert len(silent.requests) == 1  # never retried
    finally:
        await close_client(client)


async def test_server_pings_are_answered_and_silence_forces_reconnects(
    config: WorkspaceConfig,
) -> None:
    chatty = dataclasses.replace(config, timing=Timing(ack_timeout=0.4, server_ping_interval=0.1))
    async with LocalSlack(chatty) as slack:
        client = await connect_socket_client(slack, Inbox(), ping_interval=0.2)
        try:
            # Several server heartbeats pass; the client pongs, nobody reconnects.
            await asyncio.sleep(0.5)
            assert len(slack.calls("apps.connections.open")) == 1
            slack.answer_pings(enabled=False)
            await slack.wait_for_connections(2, timeout=3)
            assert len(slack.calls("apps.connections.open")) >= 2
        finally:
            slack.answer_pings(enabled=True)
            await close_client(client)


async def test_edits_and_reactions_generate_subscribed_events(config: WorkspaceConfig) -> None:
    subscribed = ("message.channels", "reaction_added")
    async with LocalSlack(dataclasses.replace(config, subscribed_events=subscribed)) as slack:
        inbox = Inbox()
        client = await connect_socket_client(slack, inbox)
        try:
            web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
            posted = await web.chat_postMessage(channel="C0OPS", text="v1")
            await web.chat_update(channel="C0OPS", ts=posted["ts"], text="v2")
            await slack.add_reaction(channel="C0OPS", ts=posted["ts"], user="U0BOB", name="eyes")
            await inbox.wait_until(lambda: len(inbox.requests) == 3)
        finally:
            await close_client(client)
    # The client handles frames concurrently, so arrival order is not asserted.
    by_subtype = {e["event"].get("subtype"): e for e in inbox.events("message")}
    assert by_subtype[None]["event"]["text"] == "v1"
    changed = by_subtype["message_changed"]
    assert changed["event"]["subtype"] == "message_changed"
    assert changed["event"]["message"]["text"] == "v2"
    assert changed["event"]["previous_message"]["text"] == "v1"
    [reaction] = inbox.events("reaction_added")
    assert reaction["event"]["user"] == "U0BOB"
    assert reaction["event"]["reaction"] == "eyes"
    assert reaction["event"]["item"] == {"type": "message", "channel": "C0OPS", "ts": posted["ts"]}
    assert reaction["event"]["item_user"] == "U0SIGNOFF"


async def test_raw_envelopes_go_out_as_given_and_are_tracked_like_any_other(
    config: WorkspaceConfig,
) -> None:
    quick = dataclasses.replace(config, timing=Timing(ack_timeout=0.15, server_ping_interval=None))
    async with LocalSlack(quick) as slack:
        frames: list[dict[str, object]] = []
        silent = Inbox(ack=False)
        client = await connect_socket_client(slack, silent)
        client.message_listeners.append(lambda _c, message, _raw: _record(frames, message))
        try:
            forged = {"type": "event_callback", "event_id": "EvFORGED1", "event": {"ts": 1}}
            event = await slack.send_envelope(type="events_api", payload=forged)
            junk = await slack.send_envelope(type="interactive", payload=[1, "two", None])
            assert (event.event_id, event.accepts_response_payload, event.raw) == (
                "EvFORGED1",
                False,
                True,
            )
            assert junk.accepts_response_payload is True and junk.kind == ""
            # Unacked, the event is redelivered with the same event id; the junk is not.
            await slack.wait_for_delivery(lambda d: d.retry_attempt == 3 and d.timed_out)
            assert [d.retry_attempt for d in slack.deliveries(type="events_api")] == [0, 1, 2, 3]
            assert {d.event_id for d in slack.deliveries(type="events_api")} == {"EvFORGED1"}
            sent = [f for f in frames if f.get("envelope_id") == junk.envelope_id]
            assert [f["payload"] for f in sent] == [[1, "two", None]]
            assert slack.deliveries(type="interactive")[0].user_saw_error
        finally:
            await close_client(client)
        assert {f["payload"] == forged for f in frames if f.get("type") == "events_api"} == {True}


async def _record(frames: list[dict[str, object]], message: dict[str, object]) -> None:
    frames.append(message)


async def test_a_failed_upgrade_spends_its_url(slack: LocalSlack) -> None:
    app_client = AsyncWebClient(token=slack.app_token, base_url=slack.api_url)
    slack.fail_handshakes(count=1, status=503)
    url = (await app_client.apps_connections_open(app_token=slack.app_token))["url"]
    async with aiohttp.ClientSession() as session:
        for status in (503, 401):  # the edge's failure, then the ticket it spent
            with pytest.raises(aiohttp.WSServerHandshakeError) as failed:
                await session.ws_connect(url)
            assert failed.value.status == status
        url = (await app_client.apps_connections_open(app_token=slack.app_token))["url"]
        async with session.ws_connect(url) as ws:  # only the next one failed
            assert (await ws.receive_json())["type"] == "hello"


async def test_a_refused_link_gets_the_reason_before_any_hello(slack: LocalSlack) -> None:
    app_client = AsyncWebClient(token=slack.app_token, base_url=slack.api_url)
    slack.refuse_links(reason="server_overloaded")
    async with aiohttp.ClientSession() as session:
        url = (await app_client.apps_connections_open(app_token=slack.app_token))["url"]
        async with session.ws_connect(url) as ws:
            first = await ws.receive_json()
            assert (first["type"], first["reason"]) == ("disconnect", "server_overloaded")
            assert (await ws.receive()).type == aiohttp.WSMsgType.CLOSE
        slack.refuse_links(reason=None)
        url = (await app_client.apps_connections_open(app_token=slack.app_token))["url"]
        async with session.ws_connect(url) as ws:
            assert (await ws.receive_json())["type"] == "hello"
