"""The AI-app surfaces in the browser (no bot: the test plays the app through slack_sdk): the
status line under a thread, a streamed reply growing with its tasks, the session's stop
button, the app's Home tab with a working button, a DM with the app and a private channel.
Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from background_slack import BackgroundSlack

from localslack import WorkspaceConfig

pytest.importorskip("playwright", reason="browser tests need the playwright package")
from playwright.sync_api import expect

OPS = "C0OPS"
RECIPIENT: dict[str, Any] = {"recipient_user_id": "U0ALICE", "recipient_team_id": "T0LOCAL"}
Shot = Callable[[Any, str], Path]


def agent_config() -> WorkspaceConfig:
    base = WorkspaceConfig()
    return dataclasses.replace(
        base,
        scopes=(*base.scopes, "assistant:write"),
        subscribed_events=(
            "app_mention",
            "message.channels",
            "message.groups",
            "message.im",
            "app_home_opened",
            "agent_session_stopped",
        ),
        home_tab_enabled=True,
    )


@pytest.fixture
def workspace(monkeypatch: pytest.MonkeyPatch) -> Iterator[BackgroundSlack]:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(var, raising=False)
    running = BackgroundSlack(agent_config())
    yield running
    running.close()


def kinds(workspace: BackgroundSlack, kind: str) -> list[Any]:
    return workspace.slack.deliveries(kind=kind)


def test_status_line_streaming_and_stop(page: Any, workspace: BackgroundSlack, shot: Shot) -> None:
    slack, web, run = workspace.slack, workspace.client, workspace.run
    ask = run(slack.post_message(channel=OPS, user="U0ALICE", text="<@U0SIGNOFF> is api healthy?"))
    page.goto(f"{slack.url}/ui/#c={OPS}&u=U0ALICE&t={ask}")
    expect(page.locator("#conn")).to_have_text("● live")

    run(
        web.assistant_threads_setStatus(
            channel_id=OPS, thread_ts=ask, status="is thinking…", loading_messages=["Reading logs"]
        )
    )
    run(web.agents_sessions_setStatus(channel_id=OPS, thread_ts=ask, status="processing"))
    line = page.locator("#thread-status .thread-status-line")
    expect(line).to_contain_text("signoff is thinking…")
    expect(line.locator(".status-loading")).to_have_text("Reading logs")
    # The channel shows it under the question too.
    expect(page.locator(f"#messages .msg[data-ts='{ask}'] .thread-status-line")).to_be_visible()
    expect(page.locator("#session-bar .session-status")).to_have_text("processing")
    expect(page.locator("#session-bar .session-stop")).to_be_visible()
    shot(page, "1-thinking")

    started = run(
        web.chat_startStream(
            channel=OPS,
            thread_ts=ask,
            markdown_text="Checking **api**",
            chunks=[
                {
                    "type": "task_update",
                    "id": "t1",
                    "title": "check_health",
                    "status": "in_progress",
                }
            ],
            **RECIPIENT,
        )
    )
    reply = page.locator(f"#thread-messages .msg[data-ts='{started['ts']}']")
    expect(reply.locator(".stream-text b")).to_have_text("api")
    expect(reply.locator(".stream-cursor")).to_be_visible()
    expect(reply.locator(".task-in_progress .task-title")).to_have_text("check_health")
    expect(line).to_be_hidden()  # the app replied: the status went
    run(web.chat_appendStream(channel=OPS, ts=started["ts"], markdown_text="… all green"))
    expect(reply.locator(".stream-text")).to_contain_text("Checking api… all green")
    shot(page, "2-streaming")

    run(
        web.chat_stopStream(
            channel=OPS,
            ts=started["ts"],
            chunks=[
                {"type": "task_update", "id": "t1", "title": "check_health", "status": "complete"}
            ],
            markdown_text="\n\n- p99 *120 ms*\n- errors `0`",
        )
    )
    expect(reply.locator(".stream-cursor")).to_have_count(0)
    expect(reply.locator(".task-complete")).to_have_count(1)
    expect(reply.locator(".stream-text li")).to_have_count(2)
    expect(page.locator("#session-bar .session-status")).to_have_text("active")
    shot(page, "3-streamed")

    # Another turn, stopped from the page.
    run(web.agents_sessions_setStatus(channel_id=OPS, thread_ts=ask, status="processing"))
    second = run(
        web.chat_startStream(channel=OPS, thread_ts=ask, markdown_text="Restarting", **RECIPIENT)
    )
    with page.expect_response("**/_ui/api/stop_session"):
        page.locator("#session-bar .session-stop").click()
    stopped = page.locator(f"#thread-messages .msg[data-ts='{second['ts']}']")
    expect(stopped).to_contain_text("Stopped")
    [event] = [d.payload["event"] for d in kinds(workspace, "agent_session_stopped")]
    assert event["streaming_message_ts"] == [second["ts"]]
    assert event["user"] == "U0ALICE"


def test_home_tab_dm_and_private_channel(page: Any, workspace: BackgroundSlack, shot: Shot) -> None:
    slack, web, run = workspace.slack, workspace.client, workspace.run
    page.goto(f"{slack.url}/ui/#c={OPS}&u=U0BOB")
    expect(page.locator("#conn")).to_have_text("● live")
    with page.expect_response("**/_ui/api/home_opened"):
        page.locator("#apps .app-entry").click()
    expect(page.locator("#app-tabs .app-tab.active")).to_have_text("Home")
    expect(page.locator("#home")).to_contain_text("has not published a Home tab")
    [opened] = [d.payload["event"] for d in kinds(workspace, "app_home_opened")]
    assert (opened["user"], opened["tab"], opened["channel"]) == ("U0BOB", "home", "D0BOB")

    view = {
        "type": "home",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Waiting for you"}},
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "*restart_service* `api` asked by <@U0ALICE>"},
            },
            {
                "type": "actions",
                "block_id": "req-1",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "approve",
                        "value": "req-1",
                        "style": "primary",
                        "text": {"type": "plain_text", "text": "Approve"},
                    },
                    {
                        "type": "button",
                        "action_id": "deny",
                        "value": "req-1",
                        "style": "danger",
                        "text": {"type": "plain_text", "text": "Deny"},
                    },
                ],
            },
        ],
    }
    published = run(web.views_publish(user_id="U0BOB", view=view))["view"]
    home = page.locator("#home")
    expect(home.locator(".bk-header")).to_have_text("Waiting for you")
    expect(home.locator(".mention")).to_have_text("@alice")
    shot(page, "4-home")
    with page.expect_response("**/_ui/api/click_view"):
        home.locator(".bk-button", has_text="Approve").click()
    [click] = [d.payload for d in workspace.slack.deliveries(type="interactive")]
    assert click["container"] == {"type": "view", "view_id": published["id"]}
    assert click["actions"][0]["action_id"] == "approve"

    # The Messages tab is the DM with the app.
    page.locator("#app-tabs .app-tab", has_text="Messages").click()
    box = page.locator("#composer textarea")
    box.fill("what is waiting for me?")
    box.press("Enter")
    expect(page.locator("#messages .msg", has_text="what is waiting for me?")).to_be_visible()
    run(web.chat_postMessage(channel="U0BOB", text="One request: *restart api*"))
    expect(page.locator("#messages .msg.from-bot", has_text="One request")).to_be_visible()
    shot(page, "5-dm")
    [dm] = [
        d.payload["event"]
        for d in kinds(workspace, "message")
        if d.payload["event"]["channel"] == "D0BOB"
    ][:1]
    assert dm["channel_type"] == "im"

    # Alice is in the private channel; Bob is not and does not see it.
    expect(page.locator(".channel[data-channel=C0PRIVATE]")).to_have_count(0)
    page.locator(".person[data-user=U0ALICE]").click()
    expect(page.locator("#app-tabs .app-tab.active")).to_have_text("Messages")
    expect(page.locator("#messages .msg", has_text="what is waiting")).to_have_count(0)  # Bob's DM
    page.locator(".channel[data-channel=C0PRIVATE]").click()
    box.fill("@signoff anything in here?")
    box.press("Enter")
    expect(page.locator("#messages .msg", has_text="anything in here?")).to_be_visible()
    private = [
        d.payload["event"]
        for d in kinds(workspace, "message")
        if d.payload["event"]["channel"] == "C0PRIVATE"
    ]
    assert private and private[0]["channel_type"] == "group"
