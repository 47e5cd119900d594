"""What a client meets on a bad day: a workspace without a surface, a post that succeeded on
Slack's side but failed on the wire, and message metadata checked and handed back as Slack
does."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from localslack import ControlError, LocalSlack, WorkspaceConfig

OPS = "C0OPS"
META = {"event_type": "signoff_outbox", "event_payload": {"entry": "e-1", "n": 1}}


async def expect_error(call: Any, code: str) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as info:
        await call
    assert info.value.response["error"] == code, info.value.response
    return dict(info.value.response.data)


@pytest.mark.parametrize(
    "error", ["unknown_method", "not_allowed_token_type", "feature_not_enabled", "missing_scope"]
)
async def test_a_workspace_without_the_surface(
    slack: LocalSlack, web: AsyncWebClient, error: str
) -> None:
    ask = await slack.post_message(channel=OPS, user="U0ALICE", text="hi")
    fault = slack.lack_surface(method="assistant.threads.setStatus", error=error)  # type: ignore[arg-type]
    for _ in range(3):  # it never runs out
        body = await expect_error(
            web.assistant_threads_setStatus(channel_id=OPS, thread_ts=ask, status="x"), error
        )
    if error == "unknown_method":
        assert body["req_method"] == "assistant.threads.setStatus"
    if error == "missing_scope":
        assert body["needed"] == "chat:write"
        assert "chat:write" in body["provided"]
    assert slack.thread_status(channel=OPS, thread_ts=ask) is None
    assert fault.fired == 3
    assert [f.method for f in slack.pending_faults()] == ["assistant.threads.setStatus"]
    # Other methods are untouched; clearing brings the surface back.
    await web.chat_postMessage(channel=OPS, text="fine")
    slack.remove_fault(fault)
    await web.assistant_threads_setStatus(channel_id=OPS, thread_ts=ask, status="x")


async def test_a_post_that_fails_on_the_wire_is_still_posted(
    slack: LocalSlack, web: AsyncWebClient
) -> None:
    slack.inject_fault(method="chat.postMessage", status=500, after_commit=True)
    await expect_error(
        web.chat_postMessage(channel=OPS, text="reply #1", metadata=META), "internal_error"
    )
    [stored] = slack.messages(channel=OPS)
    assert stored["text"] == "reply #1"
    [call] = slack.calls("chat.postMessage")
    assert (call.status, call.ok, call.committed, call.dropped) == (500, False, True, False)
    # A client that simply retries posts it twice...
    await web.chat_postMessage(channel=OPS, text="reply #1", metadata=META)
    assert [m["text"] for m in slack.messages(channel=OPS)] == ["reply #1", "reply #1"]


async def test_a_dropped_connection_makes_the_sdk_post_twice(slack: LocalSlack) -> None:
    # slack_sdk retries connection errors once by default: the second post duplicates.
    web = AsyncWebClient(
        token=slack.bot_token,
        base_url=slack.api_url,
        retry_handlers=[AsyncConnectionErrorRetryHandler(max_retry_count=1)],
    )
    slack.inject_fault(method="chat.postMessage", after_commit=True, drop_connection=True)
    posted = await web.chat_postMessage(channel=OPS, text="card")
    assert [m["text"] for m in slack.messages(channel=OPS)] == ["card", "card"]
    first, second = slack.calls("chat.postMessage")
    assert (first.dropped, first.committed, first.status) == (True, True, 0)
    assert (second.dropped, second.committed, second.ok) == (False, True, True)
    assert posted["ts"] == slack.messages(channel=OPS)[1]["ts"]

    # Dropped before Slack took it, the retry is harmless.
    slack.inject_fault(method="chat.postMessage", drop_connection=True)
    await web.chat_postMessage(channel="C0GENERAL", text="once")
    assert [m["text"] for m in slack.messages(channel="C0GENERAL")] == ["once"]


async def test_metadata_is_checked_like_slack(slack: LocalSlack, web: AsyncWebClient) -> None:
    for bad, code in [
        ("not json", "invalid_metadata_format"),
        (["a list"], "invalid_metadata_format"),
        ({"event_type": "x"}, "invalid_metadata_schema"),
        ({"event_type": "", "event_payload": {}}, "invalid_metadata_schema"),
        ({"event_type": "x", "event_payload": "y"}, "invalid_metadata_schema"),
        ({"event_type": "x", "event_payload": {}, "extra": 1}, "invalid_metadata_schema"),
        ({"event_type": "x", "event_payload": {"blob": "y" * 9000}}, "metadata_too_large"),
    ]:
        await expect_error(web.chat_postMessage(channel=OPS, text="t", metadata=bad), code)  # type: ignore[arg-type]
    assert slack.messages(channel=OPS) == []


async def test_metadata_payload_comes_back_only_when_asked(
    slack: LocalSlack, web: AsyncWebClient
) -> None:
    ask = await slack.post_message(channel=OPS, user="U0ALICE", text="question")
    posted = await web.chat_postMessage(channel=OPS, thread_ts=ask, text="answer", metadata=META)
    assert posted["message"]["metadata"] == {"event_type": "signoff_outbox"}
    plain = await web.conversations_replies(channel=OPS, ts=ask)
    assert plain["messages"][1]["metadata"] == {"event_type": "signoff_outbox"}
    full = await web.conversations_replies(channel=OPS, ts=ask, include_all_metadata=True)
    assert full["messages"][1]["metadata"] == META
    top = await web.chat_postMessage(channel=OPS, text="top", metadata=META)
    history = await web.conversations_history(channel=OPS, include_all_metadata=True)
    assert history["messages"][0]["ts"] == top["ts"]
    assert history["messages"][0]["metadata"] == META

    changed = {"event_type": "signoff_outbox", "event_payload": {"entry": "e-1", "n": 2}}
    await web.chat_update(channel=OPS, ts=top["ts"], text="top v2", metadata=changed)
    stored = slack.message(channel=OPS, ts=top["ts"])
    assert stored is not None and stored["metadata"] == changed
    # An update without metadata keeps it.
    await web.chat_update(channel=OPS, ts=top["ts"], text="top v3")
    stored = slack.message(channel=OPS, ts=top["ts"])
    assert stored is not None and stored["metadata"] == changed


async def test_declared_metadata_events_keep_their_payload(config: WorkspaceConfig) -> None:
    declared = dataclasses.replace(config, declared_metadata_events=("signoff_outbox",))
    async with LocalSlack(declared) as slack:
        web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        posted = await web.chat_postMessage(channel=OPS, text="x", metadata=META)
        assert posted["message"]["metadata"] == META


async def test_missing_scope_names_what_is_needed(slack: LocalSlack, web: AsyncWebClient) -> None:
    with pytest.raises(ControlError) as info:  # views.publish takes no scope of its own
        slack.lack_surface(method="views.publish", error="missing_scope")
    assert info.value.code == "missing_argument"
    slack.lack_surface(method="views.publish", error="missing_scope", needed="assistant:write")
    body = await expect_error(
        web.views_publish(user_id="U0ALICE", view={"type": "home", "blocks": []}),
        "missing_scope",
    )
    assert body["needed"] == "assistant:write"


async def test_a_garbage_fault_answers_an_html_page(slack: LocalSlack, web: AsyncWebClient) -> None:
    """What a proxy in the way answers: slack_sdk raises a SlackApiError with no error code,
    and the method did not run."""
    slack.inject_fault(method="chat.postMessage", garbage=True)
    with pytest.raises(SlackApiError) as raised:
        await web.chat_postMessage(channel=OPS, text="lost")
    assert raised.value.response.get("error") is None
    assert slack.messages(channel=OPS) == []
    (call,) = slack.calls("chat.postMessage")
    assert (call.status, call.ok, call.committed, call.error) == (200, False, False, "garbage")
    await web.chat_postMessage(channel=OPS, text="then fine")
    assert [m["text"] for m in slack.messages(channel=OPS)] == ["then fine"]


async def test_a_cut_short_fault_answers_json_that_ends_mid_object(
    slack: LocalSlack, web: AsyncWebClient
) -> None:
    """slack_sdk then raises a SlackApiError that holds aiohttp's own response, not a
    SlackResponse: it has no ``.get`` (what signoff's code must not assume)."""
    slack.inject_fault(method="chat.postMessage", cut_short=True)
    with pytest.raises(SlackApiError) as raised:
        await web.chat_postMessage(channel=OPS, text="lost")
    assert not hasattr(raised.value.response, "get")
    (call,) = slack.calls("chat.postMessage")
    assert (call.status, call.ok, call.error) == (200, False, "cut_short")


@pytest.mark.parametrize("after_commit", [False, True])
async def test_a_hang_fault_answers_nothing_until_the_client_gives_up(
    config: WorkspaceConfig, after_commit: bool
) -> None:
    """Slack took the request and never answered: the client's timeout ends the call, the
    message is there only with ``after_commit``, and stopping the server lets go of the
    call still held (it would otherwise wait for it)."""
    slack = LocalSlack(config)
    await slack.start()
    web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url, timeout=1)
    slack.inject_fault(method="chat.postMessage", hang=True, after_commit=after_commit)
    with pytest.raises(TimeoutError):
        await web.chat_postMessage(channel=OPS, text="maybe")
    (call,) = slack.calls("chat.postMessage")
    assert (call.status, call.dropped, call.error) == (0, True, "hung")
    assert call.committed is after_commit
    landed = [m["text"] for m in slack.messages(channel=OPS)]
    assert landed == (["maybe"] if after_commit else [])
    await web.chat_postMessage(channel=OPS, text="then fine")  # only the next call hung
    assert [m["text"] for m in slack.messages(channel=OPS)] == [*landed, "then fine"]
    async with asyncio.timeout(5):  # not aiohttp's shutdown timeout of a minute
        await slack.stop()
