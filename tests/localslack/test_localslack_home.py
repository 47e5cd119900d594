"""App Home: views.publish, app_home_opened and buttons in a Home tab, with a real Bolt app."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
from localslack_testkit import running_bolt
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from localslack import ControlError, LocalSlack, Timing, WorkspaceConfig

JSONDict = dict[str, Any]


def home(text: str, *, external_id: str | None = None) -> JSONDict:
    view: JSONDict = {
        "type": "home",
        "callback_id": "queue",
        "private_metadata": "v1",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {
                "type": "actions",
                "block_id": "req-7",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "approve",
                        "value": "req-7",
                        "style": "primary",
                        "text": {"type": "plain_text", "text": "Approve"},
                    }
                ],
            },
        ],
    }
    if external_id:
        view["external_id"] = external_id
    return view


@pytest.fixture
def config() -> WorkspaceConfig:
    return WorkspaceConfig(
        seed=5,
        home_tab_enabled=True,
        subscribed_events=("app_mention", "message.channels", "app_home_opened"),
        timing=Timing(ack_timeout=1.5, server_ping_interval=None),
    )


@pytest.fixture
async def app(slack: LocalSlack) -> AsyncIterator[AsyncApp]:
    async with running_bolt(slack) as bolt:
        yield bolt


async def expect_error(call: Any, code: str) -> JSONDict:
    with pytest.raises(SlackApiError) as info:
        await call
    assert info.value.response["error"] == code, info.value.response
    return dict(info.value.response.data)


async def test_publish_keeps_the_view_id_and_checks_hash_and_ids(
    slack: LocalSlack, web: AsyncWebClient
) -> None:
    first = (await web.views_publish(user_id="U0ALICE", view=home("one")))["view"]
    assert first["type"] == "home"
    assert first["root_view_id"] == first["id"]
    assert first["previous_view_id"] is None
    assert first["blocks"][0]["block_id"]  # filled in
    second = (await web.views_publish(user_id="U0ALICE", view=home("two"), hash=first["hash"]))[
        "view"
    ]
    assert second["id"] == first["id"]
    assert second["hash"] != first["hash"]
    await expect_error(
        web.views_publish(user_id="U0ALICE", view=home("three"), hash=first["hash"]),
        "hash_conflict",
    )
    body = await expect_error(
        web.views_publish(user_id="U0NOBODY", view=home("x")), "invalid_arguments"
    )
    assert body["response_metadata"]["messages"] == ["invalid `user_id`"]
    await expect_error(
        web.views_publish(user_id="U0BOB", view={**home("x"), "type": "modal"}), "invalid_arguments"
    )
    await web.views_publish(user_id="U0BOB", view=home("b", external_id="queue-bob"))
    await expect_error(
        web.views_publish(user_id="U0CAROL", view=home("c", external_id="queue-bob")),
        "duplicate_external_id",
    )
    big = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2900}}
    await expect_error(
        web.views_publish(user_id="U0BOB", view={"type": "home", "blocks": [big] * 100}),
        "view_too_large",
    )
    shown = slack.home_view(user="U0ALICE")
    assert shown is not None and shown["blocks"][0]["text"]["text"] == "two"


async def test_home_tab_must_be_enabled(config: WorkspaceConfig) -> None:
    async with LocalSlack(dataclasses.replace(config, home_tab_enabled=False)) as slack:
        web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        await expect_error(web.views_publish(user_id="U0ALICE", view=home("x")), "not_enabled")
        with pytest.raises(ControlError) as info:
            await slack.open_app_home(user="U0ALICE")
        assert info.value.code == "home_tab_disabled"


async def test_opening_home_publishes_and_a_click_comes_from_the_view(
    slack: LocalSlack, app: AsyncApp
) -> None:
    opened: asyncio.Queue[JSONDict] = asyncio.Queue()
    clicks: asyncio.Queue[JSONDict] = asyncio.Queue()

    async def on_home(event: JSONDict, client: AsyncWebClient) -> None:
        await client.views_publish(user_id=event["user"], view=home(f"hi <@{event['user']}>"))
        await opened.put(event)

    async def on_approve(ack: AsyncAck, body: JSONDict) -> None:
        await ack()
        await clicks.put(body)

    app.event("app_home_opened")(on_home)
    app.action("approve")(on_approve)

    assert await slack.open_app_home(user="U0BOB") is not None
    event = await asyncio.wait_for(opened.get(), 3)
    published = await slack.wait_for_home_view(user="U0BOB")
    assert published["blocks"][0]["text"]["text"] == "hi <@U0BOB>"
    assert (event["type"], event["user"], event["channel"], event["tab"]) == (
        "app_home_opened",
        "U0BOB",
        "D0BOB",
        "home",
    )
    assert "view" not in event  # nothing was published before

    await slack.open_app_home(user="U0BOB")
    again = await asyncio.wait_for(opened.get(), 3)
    assert again["view"]["id"] == published["id"]
    assert again["view"]["hash"] == published["hash"]

    click = await slack.click_view_button(user="U0BOB", action_id="approve")
    body = await asyncio.wait_for(clicks.get(), 3)
    assert body["type"] == "block_actions"
    assert body["container"] == {"type": "view", "view_id": published["id"]}
    assert body["view"]["id"] == published["id"]
    assert body["view"]["type"] == "home"
    assert body["view"]["callback_id"] == "queue"
    assert body["view"]["private_metadata"] == "v1"
    current = slack.home_view(user="U0BOB")  # the second opening published it again
    assert current is not None and body["view"]["hash"] == current["hash"]
    assert body["view"]["state"] == {"values": {}}
    assert body["actions"][0]["action_id"] == "approve"
    assert body["actions"][0]["block_id"] == "req-7"
    assert body["actions"][0]["value"] == "req-7"
    assert body["user"]["id"] == "U0BOB"
    assert body["trigger_id"] == click.trigger_id
    for absent in ("channel", "message", "response_url"):
        assert absent not in body

    with pytest.raises(ControlError):
        await slack.click_view_button(user="U0CAROL", action_id="approve")  # no Home tab yet


async def test_a_button_in_an_open_modal_comes_from_that_view(
    slack: LocalSlack, web: AsyncWebClient
) -> None:
    card = await web.chat_postMessage(
        channel="C0OPS",
        text="card",
        blocks=[
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "details",
                        "text": {"type": "plain_text", "text": "Details"},
                    }
                ],
            }
        ],
    )
    click = await slack.click_button(channel="C0OPS", ts=card["ts"], user="U0ALICE")
    modal = {
        "type": "modal",
        "callback_id": "details",
        "title": {"type": "plain_text", "text": "Details"},
        "blocks": home("in a modal")["blocks"],
    }
    opened = (await web.views_open(trigger_id=click.trigger_id, view=modal))["view"]
    inside = await slack.click_view_button(user="U0ALICE", view_id=opened["id"], value="req-7")
    assert inside.payload["container"] == {"type": "view", "view_id": opened["id"]}
    assert inside.payload["view"]["type"] == "modal"
    assert inside.payload["actions"][0]["action_id"] == "approve"
    with pytest.raises(ControlError):  # not Bob's modal
        await slack.click_view_button(user="U0BOB", view_id=opened["id"], value="req-7")
