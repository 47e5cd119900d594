"""Interaction payloads and response_url semantics, driven through the control API."""

from __future__ import annotations

from typing import Any

import pytest
from localslack_testkit import Inbox
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from localslack import ControlError, LocalSlack, WorkspaceConfig


def approval_blocks(request_id: str) -> list[dict[str, Any]]:
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Deploy *api* to prod?"}},
        {
            "type": "actions",
            "block_id": "decision",
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
                    "action_id": "deny",
                    "text": {"type": "plain_text", "text": "Deny"},
                    "value": request_id,
                },
            ],
        },
    ]


async def test_block_actions_payload_for_a_threaded_card(
    slack: LocalSlack, web: AsyncWebClient, inbox: Inbox, socket_client: SocketModeClient
) -> None:
    parent = await slack.post_message(channel="C0OPS", user="U0BOB", text="ship it")
    card = await web.chat_postMessage(
        channel="C0OPS", text="approve?", blocks=approval_blocks("req-1"), thread_ts=parent
    )
    done = await slack.click_button(channel="C0OPS", ts=card["ts"], user="U0ALICE", value="req-1")
    await inbox.wait_until(lambda: any(r.type == "interactive" for r in inbox.requests))
    req = next(r for r in inbox.requests if r.type == "interactive")
    assert req.envelope_id == done.envelope_id
    assert req.accepts_response_payload is True
    body = req.payload
    assert body["type"] == "block_actions"
    assert body["user"] == {
        "id": "U0ALICE",
        "username": "alice",
        "name": "alice",
        "team_id": "T0LOCAL",
    }
    assert body["api_app_id"] == "A0SIGNOFF"
    assert body["token"] == slack.config.verification_token
    assert body["team"] == {"id": "T0LOCAL", "domain": "localslack"}
    assert body["container"] == {
        "type": "message",
        "message_ts": card["ts"],
        "channel_id": "C0OPS",
        "is_ephemeral": False,
        "thread_ts": parent,
    }
    assert body["channel"] == {"id": "C0OPS", "name": "ops"}
    assert body["message"]["ts"] == card["ts"]
    assert body["message"]["bot_id"] == "B0SIGNOFF"
    assert body["message"]["blocks"][1]["block_id"] == "decision"
    assert body["state"] == {"values": {}}
    assert body["trigger_id"] == done.trigger_id
    assert body["response_url"] == done.response_url
    assert str(done.response_url).startswith(f"{slack.url}/response/")
    [action] = body["actions"]
    assert action["action_id"] == "approve"  # the first button carrying that value
    assert action["block_id"] == "decision"
    assert action["value"] == "req-1"
    assert action["type"] == "button"
    assert action["style"] == "primary"
    assert action["text"] == {"type": "plain_text", "text": "Approve"}
    assert float(action["action_ts"]) > float(card["ts"])


async def test_clicking_requires_a_real_button(slack: LocalSlack, web: AsyncWebClient) -> None:
    card = await web.chat_postMessage(channel="C0OPS", text="x", blocks=approval_blocks("r"))
    with pytest.raises(ControlError) as info:
        await slack.click_button(channel="C0OPS", ts=card["ts"], user="U0ALICE", action_id="nope")
    assert info.value.code == "button_not_found"
    with pytest.raises(ControlError):
        await slack.click_button(
            channel="C0OPS", ts="1.000000", user="U0ALICE", action_id="approve"
        )
    with pytest.raises(ControlError):
        await slack.click_button(
            channel="C0OPS", ts=card["ts"], user="U0NOBODY", action_id="approve"
        )


async def test_ephemeral_click_and_response_url_replace(
    slack: LocalSlack, web: AsyncWebClient, inbox: Inbox, socket_client: SocketModeClient
) -> None:
    eph = await web.chat_postEphemeral(
        channel="C0OPS", user="U0BOB", text="only you", blocks=approval_blocks("req-2")
    )
    # Only the recipient can see (and so click) an ephemeral message.
    with pytest.raises(ControlError):
        await slack.click_button(
            channel="C0OPS", ts=eph["message_ts"], user="U0ALICE", action_id="deny"
        )
    done = await slack.click_button(
        channel="C0OPS", ts=eph["message_ts"], user="U0BOB", action_id="deny"
    )
    await inbox.wait_until(lambda: any(r.type == "interactive" for r in inbox.requests))
    body = next(r for r in inbox.requests if r.type == "interactive").payload
    assert body["container"]["is_ephemeral"] is True
    assert "message" not in body

    hook = AsyncWebhookClient(url=str(done.response_url))
    resp = await hook.send(text="You denied it", replace_original=True)
    assert resp.status_code == 200
    [item] = slack.ephemeral_messages(user="U0BOB")
    assert item["text"] == "You denied it"
    assert "blocks" not in item
    await hook.send(text="", delete_original=True)
    assert slack.ephemeral_messages(user="U0BOB") == []


async def test_response_url_modes_and_five_use_limit(
    slack: LocalSlack, web: AsyncWebClient
) -> None:
    card = await web.chat_postMessage(channel="C0OPS", text="approve?", blocks=approval_blocks("r"))
    # No socket is connected: the click is queued, the response_url already works.
    done = await slack.click_button(
        channel="C0OPS", ts=card["ts"], user="U0ALICE", action_id="approve"
    )
    hook = AsyncWebhookClient(url=str(done.response_url))

    assert (await hook.send(text="Only approvers may approve")).status_code == 200  # 1
    [private] = slack.ephemeral_messages(user="U0ALICE", channel="C0OPS")
    assert private["text"] == "Only approvers may approve"

    await hook.send(text="Approved :white_check_mark:", replace_original=True)  # 2
    replaced = slack.message(channel="C0OPS", ts=card["ts"])
    assert replaced is not None
    assert replaced["text"] == "Approved :white_check_mark:"
    assert "blocks" not in replaced

    await hook.send(text="Deploy started", response_type="in_channel")  # 3
    public = await slack.wait_for_message(channel="C0OPS", text_contains="Deploy started")
    assert public["bot_id"] == "B0SIGNOFF"
    assert public["ts"] != card["ts"]

    await hook.send_dict(  # 4
        {"text": "in thread", "response_type": "in_channel", "thread_ts": card["ts"]}
    )
    await slack.wait_for_message(thread_ts=card["ts"], text_contains="in thread")
    assert (await hook.send(text="fifth")).status_code == 200  # 5
    sixth = await hook.send(text="sixth")
    assert sixth.status_code == 404
    assert "used_url" in sixth.body

    await hook_delete_check(slack, web)


async def hook_delete_check(slack: LocalSlack, web: AsyncWebClient) -> None:
    card = await web.chat_postMessage(channel="C0OPS", text="bye", blocks=approval_blocks("d"))
    done = await slack.click_button(
        channel="C0OPS", ts=card["ts"], user="U0ALICE", action_id="deny"
    )
    await AsyncWebhookClient(url=str(done.response_url)).send(text="", delete_original=True)
    assert slack.message(channel="C0OPS", ts=card["ts"]) is None


async def test_response_url_expires_after_thirty_minutes(config: WorkspaceConfig) -> None:
    now = [1_800_000_000.0]
    async with LocalSlack(config, clock=lambda: now[0]) as slack:
        web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        card = await web.chat_postMessage(channel="C0OPS", text="x", blocks=approval_blocks("r"))
        done = await slack.click_button(
            channel="C0OPS", ts=card["ts"], user="U0ALICE", action_id="approve"
        )
        hook = AsyncWebhookClient(url=str(done.response_url))
        now[0] += 29 * 60
        assert (await hook.send(text="still fresh")).status_code == 200
        now[0] += 2 * 60
        late = await hook.send(text="too late")
        assert late.status_code == 404
        assert "expired_url" in late.body


async def test_views_open_checks_trigger_and_view(slack: LocalSlack, web: AsyncWebClient) -> None:
    from slack_sdk.errors import SlackApiError

    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": "form",
        "title": {"type": "plain_text", "text": "Deploy"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
    }
    with pytest.raises(SlackApiError) as info:
        await web.views_open(trigger_id="123.456.abc", view=view)
    assert info.value.response["error"] == "invalid_arguments"
    card = await web.chat_postMessage(channel="C0OPS", text="x", blocks=approval_blocks("r"))
    done = await slack.click_button(
        channel="C0OPS", ts=card["ts"], user="U0ALICE", action_id="approve"
    )
    too_big = {**view, "blocks": view["blocks"] * 101}
    with pytest.raises(SlackApiError) as info:
        await web.views_open(trigger_id=done.trigger_id, view=too_big)
    assert info.value.response["error"] == "invalid_arguments"
    opened = await web.views_open(trigger_id=done.trigger_id, view=view)
    assert opened["view"]["callback_id"] == "form"
    assert opened["view"]["root_view_id"] == opened["view"]["id"]
    [listed] = slack.open_views(user="U0ALICE")
    assert listed["id"] == opened["view"]["id"]
    with pytest.raises(SlackApiError) as info:
        await web.views_open(trigger_id=done.trigger_id, view=view)
    assert info.value.response["error"] == "exchanged_trigger_id"
    updated = await web.views_update(
        view_id=opened["view"]["id"],
        hash=opened["view"]["hash"],
        view={**view, "callback_id": "v2"},
    )
    assert updated["view"]["callback_id"] == "v2"
    with pytest.raises(SlackApiError) as info:
        await web.views_update(view_id=opened["view"]["id"], hash="stale", view=view)
    assert info.value.response["error"] == "hash_conflict"


async def test_a_malformed_form_submission_is_a_400_and_submits_nothing(
    slack: LocalSlack, web: AsyncWebClient
) -> None:
    """The page's submit (and the control API's) take {block_id: {action_id: value}}, a
    text input's value a string, as Slack would send; other shapes crashed (500) or
    reached the app as a list where a person types text."""
    import aiohttp

    card = await web.chat_postMessage(channel="C0OPS", text="x", blocks=approval_blocks("r"))
    done = await slack.click_button(channel="C0OPS", ts=card["ts"], user="U0BOB", action_id="deny")
    reason = {
        "type": "input",
        "block_id": "reason",
        "label": {"type": "plain_text", "text": "Reason"},
        "element": {"type": "plain_text_input", "action_id": "reason"},
    }
    view = {
        "type": "modal",
        "callback_id": "deny",
        "title": {"type": "plain_text", "text": "Deny"},
        "submit": {"type": "plain_text", "text": "Deny"},
        "blocks": [reason],
    }
    opened = await web.views_open(trigger_id=done.trigger_id, view=view)
    async with aiohttp.ClientSession() as http:
        for values in (
            {"reason": "no"},
            {"reason": 5},
            {"reason": {"reason": ["no", "yes"]}},
            {"reason": {"reason": 7}},
            {"reason": {"reason": {"value": ["no"]}}},
            {"reason": {"reason": "no"}, "other": 5},
        ):
            body = {"user": "U0BOB", "view_id": opened["view"]["id"], "values": values}
            async with http.post(f"{slack.url}/_ui/api/submit", json=body) as answer:
                assert answer.status == 400, values
                assert (await answer.json())["error"] == "invalid_argument", values
            async with http.post(f"{slack.url}/_control/views/submit", json=body) as answer:
                assert answer.status == 400, values
    assert slack.deliveries(type="view_submission") == []
    assert [v["id"] for v in slack.open_views(user="U0BOB")] == [opened["view"]["id"]]
