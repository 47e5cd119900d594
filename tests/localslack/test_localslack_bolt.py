"""A real slack_bolt AsyncApp + AsyncSocketModeHandler against LocalSlack."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond, AsyncSay
from slack_sdk.web.async_client import AsyncWebClient

from localslack import LocalSlack, Timing, WorkspaceConfig

JSONDict = dict[str, Any]


@pytest.fixture
def config() -> WorkspaceConfig:
    # Bolt acks from another task; leave it generous headroom.
    return WorkspaceConfig(seed=99, timing=Timing(ack_timeout=1.5, server_ping_interval=None))


@pytest.fixture
async def app(slack: LocalSlack) -> AsyncIterator[AsyncApp]:
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    bolt = AsyncApp(client=client)
    handler = AsyncSocketModeHandler(bolt, app_token=slack.app_token)
    await handler.connect_async()  # type: ignore[no-untyped-call]  # unannotated in bolt
    await slack.wait_for_sockets(1)
    yield bolt
    await handler.close_async()  # type: ignore[no-untyped-call]  # unannotated in bolt


def card(request_id: str) -> list[JSONDict]:
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Restart *payments*?"}},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "approve",
                    "text": {"type": "plain_text", "text": "Approve"},
                    "value": request_id,
                    "style": "primary",
                },
                {
                    "type": "button",
                    "action_id": "open_form",
                    "text": {"type": "plain_text", "text": "Give a reason"},
                    "value": request_id,
                },
            ],
        },
    ]


async def test_button_click_reaches_bolt_which_updates_the_card(
    slack: LocalSlack, app: AsyncApp, web: AsyncWebClient
) -> None:
    seen: list[JSONDict] = []

    async def on_approve(ack: AsyncAck, body: JSONDict, client: AsyncWebClient) -> None:
        await ack()
        seen.append(body)
        await client.chat_update(
            channel=body["channel"]["id"],
            ts=body["container"]["message_ts"],
            text=f"Approved by <@{body['user']['id']}>",
            blocks=[],
        )

    app.action("approve")(on_approve)
    posted = await web.chat_postMessage(channel="C0OPS", text="Restart?", blocks=card("req-9"))
    click = await slack.click_button(
        channel="C0OPS", ts=posted["ts"], user="U0ALICE", action_id="approve"
    )

    updated = await slack.wait_for_message(channel="C0OPS", text_contains="Approved by")
    assert updated["ts"] == posted["ts"]
    assert updated["text"] == "Approved by <@U0ALICE>"
    assert "blocks" not in updated
    ack = await slack.wait_for_ack(click.envelope_id)
    assert ack.ack_payload is None
    assert ack.user_saw_error is False

    [body] = seen
    assert body["type"] == "block_actions"
    assert body["user"]["id"] == "U0ALICE"
    assert body["container"]["message_ts"] == posted["ts"]
    assert body["message"]["text"] == "Restart?"
    assert body["actions"][0]["value"] == "req-9"
    # Bolt identifies itself lazily via auth.test and tags its calls with team_id.
    assert slack.calls("auth.test")
    [update_call] = slack.calls("chat.update")
    assert update_call.args["team_id"] == "T0LOCAL"


async def test_modal_open_and_submission_with_validation_errors(
    slack: LocalSlack, app: AsyncApp, web: AsyncWebClient
) -> None:
    opened = asyncio.Event()
    submissions: list[JSONDict] = []

    async def open_form(ack: AsyncAck, body: JSONDict, client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(
            trigger_id=body["trigger_id"],
            view={
                "type": "modal",
                "callback_id": "reason_form",
                "private_metadata": body["actions"][0]["value"],
                "title": {"type": "plain_text", "text": "Why?"},
                "submit": {"type": "plain_text", "text": "Send"},
                "blocks": [
                    {
                        "type": "input",
                        "block_id": "reason_block",
                        "label": {"type": "plain_text", "text": "Reason"},
                        "element": {"type": "plain_text_input", "action_id": "reason"},
                    },
                    {
                        "type": "input",
                        "block_id": "urgency_block",
                        "optional": True,
                        "label": {"type": "plain_text", "text": "Urgency"},
                        "element": {
                            "type": "static_select",
                            "action_id": "urgency",
                            "options": [
                                {"text": {"type": "plain_text", "text": "Low"}, "value": "low"},
                                {"text": {"type": "plain_text", "text": "High"}, "value": "high"},
                            ],
                        },
                    },
                ],
            },
        )
        opened.set()

    async def on_submit(ack: AsyncAck, body: JSONDict, view: JSONDict) -> None:
        reason = view["state"]["values"]["reason_block"]["reason"]["value"]
        if len(reason) < 5:
            await ack(response_action="errors", errors={"reason_block": "Say a bit more"})
            return
        await ack()
        submissions.append(body)

    app.action("open_form")(open_form)
    app.view("reason_form")(on_submit)
    posted = await web.chat_postMessage(channel="C0OPS", text="Restart?", blocks=card("req-3"))
    await slack.click_button(channel="C0OPS", ts=posted["ts"], user="U0BOB", action_id="open_form")
    await asyncio.wait_for(opened.wait(), 3)
    [modal] = slack.open_views(user="U0BOB")

    first = await slack.submit_view(user="U0BOB", values={"reason_block": {"reason": "eh"}})
    rejected = await slack.wait_for_ack(first.envelope_id)
    assert rejected.ack_payload == {
        "response_action": "errors",
        "errors": {"reason_block": "Say a bit more"},
    }
    [still_open] = slack.open_views(user="U0BOB")
    assert still_open["errors"] == {"reason_block": "Say a bit more"}

    second = await slack.submit_view(
        user="U0BOB",
        callback_id="reason_form",
        values={"reason_block": {"reason": "disk is full"}, "urgency_block": {"urgency": "high"}},
    )
    await slack.wait_for_ack(second.envelope_id)
    assert slack.open_views(user="U0BOB") == []

    [body] = submissions
    assert body["type"] == "view_submission"
    assert body["user"]["id"] == "U0BOB"
    view = body["view"]
    assert view["id"] == modal["id"]
    assert view["callback_id"] == "reason_form"
    assert view["private_metadata"] == "req-3"
    assert view["hash"] == modal["hash"]
    values = view["state"]["values"]
    assert values["reason_block"]["reason"] == {"type": "plain_text_input", "value": "disk is full"}
    assert values["urgency_block"]["urgency"]["selected_option"]["value"] == "high"


async def test_slash_commands_through_bolt(slack: LocalSlack, app: AsyncApp) -> None:
    commands: list[JSONDict] = []

    async def trace(ack: AsyncAck, command: JSONDict) -> None:
        commands.append(command)
        await ack(f"Tracing session {command['text']}")

    async def announce(ack: AsyncAck, command: JSONDict, respond: AsyncRespond) -> None:
        await ack(text="Deploying now", response_type="in_channel")
        await respond(text="(only you see this follow-up)")

    app.command("/trace")(trace)
    app.command("/deploy")(announce)

    done = await slack.slash_command(command="/trace", user="U0CAROL", channel="C0OPS", text="s-42")
    acked = await slack.wait_for_ack(done.envelope_id)
    assert acked.ack_payload == {"text": "Tracing session s-42"}
    [private] = slack.ephemeral_messages(user="U0CAROL")
    assert private["text"] == "Tracing session s-42"
    [command] = commands
    assert command["command"] == "/trace"
    assert command["text"] == "s-42"
    assert command["user_id"] == "U0CAROL"
    assert command["user_name"] == "carol"
    assert command["channel_id"] == "C0OPS"
    assert command["channel_name"] == "ops"
    assert command["team_id"] == "T0LOCAL"
    assert command["api_app_id"] == "A0SIGNOFF"
    assert command["response_url"] == done.response_url
    assert command["trigger_id"] == done.trigger_id

    await slack.slash_command(command="/deploy", user="U0CAROL", channel="C0OPS")
    public = await slack.wait_for_message(channel="C0OPS", from_bot=True, text_contains="Deploying")
    assert public["user"] == "U0SIGNOFF"
    follow_up = await slack.wait_for_ephemeral(user="U0CAROL", text_contains="follow-up")
    assert follow_up["channel"] == "C0OPS"


async def test_mention_reply_in_thread_and_self_echo_is_acked(
    slack: LocalSlack, app: AsyncApp
) -> None:
    async def on_mention(event: JSONDict, say: AsyncSay) -> None:
        await say(text=f"Looking into it, <@{event['user']}>", thread_ts=event["ts"])

    async def on_message(event: JSONDict) -> None:
        return None  # subscribed, so it must be handled (and thereby acked)

    app.event("app_mention")(on_mention)
    app.event("message")(on_message)
    ts = await slack.post_message(channel="C0GENERAL", user="U0DAVE", text="<@U0SIGNOFF> help")
    reply = await slack.wait_for_message(thread_ts=ts, from_bot=True)
    assert reply["text"] == "Looking into it, <@U0DAVE>"
    assert reply["parent_user_id"] == "U0DAVE"

    # Human message, app_mention and the bot's own echo: all acked once, none retried.
    await slack.wait_for_delivery(
        lambda d: (
            d.type == "events_api" and d.payload["event"].get("bot_id") is not None and d.settled
        )
    )
    events = slack.deliveries(type="events_api")
    assert sorted(d.kind for d in events) == ["app_mention", "message", "message"]
    assert all(d.acked and d.retry_attempt == 0 for d in events)
