"""Web API behaviour as seen through slack_sdk's AsyncWebClient."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from localslack import LocalSlack, WorkspaceConfig, methods_files


def section(text: str) -> dict[str, object]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


async def test_auth_test_identifies_the_bot(slack: LocalSlack, web: AsyncWebClient) -> None:
    resp = await web.auth_test()
    assert resp["user_id"] == "U0SIGNOFF"
    assert resp["bot_id"] == "B0SIGNOFF"
    assert resp["team_id"] == "T0LOCAL"
    assert resp["team"] == "LocalSlack"
    assert resp["url"] == f"{slack.url}/"
    assert "chat:write" in resp.headers["x-oauth-scopes"]


async def test_thread_reply_and_conversations_replies(
    slack: LocalSlack, web: AsyncWebClient
) -> None:
    parent_ts = await slack.post_message(channel="C0GENERAL", user="U0ALICE", text="deploy?")
    posted = await web.chat_postMessage(channel="C0GENERAL", text="on it", thread_ts=parent_ts)
    assert posted["message"]["thread_ts"] == parent_ts
    assert posted["message"]["parent_user_id"] == "U0ALICE"

    replies = await web.conversations_replies(channel="C0GENERAL", ts=parent_ts)
    messages = replies["messages"]
    assert [m["ts"] for m in messages] == [parent_ts, posted["ts"]]
    assert messages[0]["reply_count"] == 1
    assert messages[0]["reply_users"] == ["U0SIGNOFF"]
    assert messages[1]["bot_id"] == "B0SIGNOFF"
    # A reply's ts resolves to the same thread, as in Slack.
    again = await web.conversations_replies(channel="C0GENERAL", ts=posted["ts"])
    assert [m["ts"] for m in again["messages"]] == [parent_ts, posted["ts"]]
    # Replies stay out of the channel's top-level history.
    history = await web.conversations_history(channel="C0GENERAL")
    assert [m["ts"] for m in history["messages"]] == [parent_ts]


async def test_monotonic_timestamps(slack: LocalSlack, web: AsyncWebClient) -> None:
    stamps = [(await web.chat_postMessage(channel="C0OPS", text=str(i)))["ts"] for i in range(5)]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == 5
    assert all(len(ts) == 17 and ts[10] == "." for ts in stamps)


async def expect_error(call: Awaitable[Any], code: str) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        await call
    assert info.value.response["ok"] is False
    assert info.value.response["error"] == code
    return info.value


async def test_error_shapes(slack: LocalSlack, web: AsyncWebClient) -> None:
    bad = AsyncWebClient(token="xoxb-nope", base_url=slack.api_url)
    err = await expect_error(bad.auth_test(), "invalid_auth")
    assert err.response.status_code == 200
    await expect_error(AsyncWebClient(base_url=slack.api_url).auth_test(), "not_authed")
    await expect_error(web.chat_postMessage(channel="C0NOPE", text="x"), "channel_not_found")
    await expect_error(web.chat_postMessage(channel="C0RANDOM", text="x"), "not_in_channel")
    err = await expect_error(
        web.chat_postMessage(channel="C0OPS", text="x", blocks=[section("b")] * 51),
        "invalid_blocks",
    )
    assert any("50" in m for m in err.response["response_metadata"]["messages"])
    await expect_error(web.chat_postMessage(channel="C0OPS", text="x" * 40_001), "msg_too_long")
    with pytest.warns(UserWarning, match="text"):  # slack_sdk nags before sending
        await expect_error(web.chat_postMessage(channel="C0OPS", text=""), "no_text")
    await expect_error(
        web.chat_postMessage(channel="C0OPS", text="x", thread_ts="1234567890.123456"),
        "thread_not_found",
    )
    await expect_error(
        web.chat_update(channel="C0OPS", ts="1.000001", text="x"), "message_not_found"
    )
    await expect_error(web.users_info(user="U0NOBODY"), "user_not_found")
    await expect_error(
        web.apps_connections_open(app_token=slack.bot_token), "not_allowed_token_type"
    )
    # A private channel the bot is not in is indistinguishable from a missing one.
    await expect_error(web.conversations_info(channel="C0NOPE"), "channel_not_found")
    await web.chat_postMessage(channel="C0OPS", text="still fine")


async def test_block_kit_limits(web: AsyncWebClient) -> None:
    long_button = {
        "type": "actions",
        "elements": [{"type": "button", "text": {"type": "plain_text", "text": "x" * 76}}],
    }
    too_many_fields = {
        "type": "section",
        "fields": [{"type": "mrkdwn", "text": "f"}] * 11,
    }
    # Slack's confirmation dialog object: every text in it is plain_text.
    mrkdwn_confirm = {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Go"},
                "confirm": {
                    "title": {"type": "plain_text", "text": "Sure?"},
                    "text": {"type": "mrkdwn", "text": "`x` runs"},
                    "confirm": {"type": "plain_text", "text": "Yes"},
                    "deny": {"type": "plain_text", "text": "No"},
                },
            }
        ],
    }
    for blocks in ([section("x" * 3001)], [long_button], [too_many_fields], [mrkdwn_confirm]):
        await expect_error(
            web.chat_postMessage(channel="C0OPS", text="x", blocks=blocks), "invalid_blocks"
        )
    ok = await web.chat_postMessage(channel="C0OPS", text="x", blocks=[section("x" * 3000)] * 50)
    assert len(ok["message"]["blocks"]) == 50
    # Slack assigns block ids the app left out.
    assert all(b["block_id"] for b in ok["message"]["blocks"])


async def test_rate_limit_fault_then_retry_handler(slack: LocalSlack, web: AsyncWebClient) -> None:
    slack.inject_fault(method="chat.postMessage", status=429, retry_after=1)
    err = await expect_error(web.chat_postMessage(channel="C0OPS", text="x"), "ratelimited")
    assert err.response.status_code == 429
    assert err.response.headers["Retry-After"] == "1"

    # Retry-After 0 keeps the retry handler's sleep under a second.
    slack.inject_fault(method="chat.postMessage", status=429, retry_after=0)
    patient = AsyncWebClient(
        token=slack.bot_token,
        base_url=slack.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )
    resp = await patient.chat_postMessage(channel="C0OPS", text="eventually")
    assert resp["ok"] is True
    statuses = [c.status for c in slack.calls("chat.postMessage")]
    assert statuses == [429, 429, 200]


async def test_generic_fault_injection_counts_down(slack: LocalSlack, web: AsyncWebClient) -> None:
    slack.inject_fault(method="reactions.add", error="internal_error", count=2, status=500)
    ts = await slack.post_message(channel="C0OPS", user="U0BOB", text="hi")
    for _ in range(2):
        err = await expect_error(
            web.reactions_add(channel="C0OPS", timestamp=ts, name="eyes"), "internal_error"
        )
        assert err.response.status_code == 500
    await web.reactions_add(channel="C0OPS", timestamp=ts, name="eyes")
    reacted = slack.message(channel="C0OPS", ts=ts)
    assert reacted is not None
    assert reacted["reactions"] == [{"name": "eyes", "users": ["U0SIGNOFF"], "count": 1}]
    await expect_error(
        web.reactions_add(channel="C0OPS", timestamp=ts, name="eyes"), "already_reacted"
    )


async def test_a_fault_for_one_channel_leaves_the_others_alone(
    slack: LocalSlack, web: AsyncWebClient
) -> None:
    fault = slack.inject_fault(
        method="chat.postMessage", channel="C0GENERAL", error="is_archived", count=None
    )
    assert (await web.chat_postMessage(channel="C0OPS", text="fine"))["ok"] is True
    await expect_error(web.chat_postMessage(channel="C0GENERAL", text="no"), "is_archived")
    assert fault.fired == 1 and fault.to_dict()["channel"] == "C0GENERAL"


async def test_token_bucket_rate_limits(config: WorkspaceConfig) -> None:
    now = [1000.0]
    async with LocalSlack(config, monotonic=lambda: now[0]) as slack:
        slack.set_rate_limits(enabled=True)
        web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        for i in range(3):  # the burst allowance
            await web.chat_postMessage(channel="C0OPS", text=str(i))
        err = await expect_error(web.chat_postMessage(channel="C0OPS", text="3"), "ratelimited")
        assert err.response.status_code == 429
        assert err.response.headers["Retry-After"] == "1"
        # The bucket is per channel...
        await web.chat_postMessage(channel="C0GENERAL", text="elsewhere")
        # ...and refills at about one message per second.
        now[0] += 1.0
        await web.chat_postMessage(channel="C0OPS", text="later")
        slack.set_rate_limits(enabled=False)
        for i in range(5):
            await web.chat_postMessage(channel="C0OPS", text=f"free {i}")


async def test_update_delete_and_ephemeral(slack: LocalSlack, web: AsyncWebClient) -> None:
    posted = await web.chat_postMessage(channel="C0OPS", text="v1", blocks=[section("one")])
    ts = posted["ts"]
    updated = await web.chat_update(channel="C0OPS", ts=ts, text="v2")
    assert updated["text"] == "v2"
    stored = slack.message(channel="C0OPS", ts=ts)
    assert stored is not None
    assert stored["text"] == "v2"
    assert stored["blocks"][0]["text"]["text"] == "one"  # blocks kept unless replaced
    assert "edited" in stored

    human_ts = await slack.post_message(channel="C0OPS", user="U0BOB", text="mine")
    await expect_error(
        web.chat_update(channel="C0OPS", ts=human_ts, text="x"), "cant_update_message"
    )

    link = await web.chat_getPermalink(channel="C0OPS", message_ts=ts)
    assert link["permalink"] == f"{slack.url}/archives/C0OPS/p{ts.replace('.', '')}"

    await web.chat_delete(channel="C0OPS", ts=ts)
    assert slack.message(channel="C0OPS", ts=ts) is None

    eph = await web.chat_postEphemeral(channel="C0OPS", user="U0BOB", text="psst")
    [item] = slack.ephemeral_messages(user="U0BOB")
    assert item["ts"] == eph["message_ts"]
    assert item["text"] == "psst"
    assert slack.ephemeral_messages(user="U0ALICE") == []
    await expect_error(
        web.chat_postEphemeral(channel="C0OPS", user="U0DAVE", text="x"), "user_not_in_channel"
    )


async def test_directory_methods(web: AsyncWebClient) -> None:
    alice = (await web.users_info(user="U0ALICE"))["user"]
    assert alice["name"] == "alice"
    assert alice["is_bot"] is False
    bot = (await web.users_info(user="U0SIGNOFF"))["user"]
    assert bot["is_bot"] is True
    assert bot["profile"]["bot_id"] == "B0SIGNOFF"
    group = await web.usergroups_users_list(usergroup="S0APPROVERS")
    assert group["users"] == ["U0ALICE", "U0BOB"]
    await expect_error(web.usergroups_users_list(usergroup="S0NOPE"), "no_such_subteam")
    info = (await web.conversations_info(channel="C0OPS"))["channel"]
    assert info["name"] == "ops"
    assert info["is_member"] is True
    assert (await web.conversations_info(channel="C0RANDOM"))["channel"]["is_member"] is False


async def test_user_text_is_escaped_but_mentions_survive(slack: LocalSlack) -> None:
    ts = await slack.post_message(
        channel="C0GENERAL", user="U0ALICE", text="<@U0SIGNOFF> is a<b & c>d? <#C0OPS>"
    )
    stored = slack.message(channel="C0GENERAL", ts=ts)
    assert stored is not None
    assert stored["text"] == "<@U0SIGNOFF> is a&lt;b &amp; c&gt;d? <#C0OPS>"
    elements = stored["blocks"][0]["elements"][0]["elements"]
    assert elements[0] == {"type": "user", "user_id": "U0SIGNOFF"}
    assert elements[1] == {"type": "text", "text": " is a<b & c>d? "}


async def test_form_and_query_arguments_with_json_strings(slack: LocalSlack) -> None:
    blocks = '[{"type": "section", "text": {"type": "plain_text", "text": "form"}}]'
    async with aiohttp.ClientSession() as session:
        form = {"token": slack.bot_token, "channel": "C0OPS", "text": "t", "blocks": blocks}
        async with session.post(f"{slack.api_url}chat.postMessage", data=form) as resp:
            body = await resp.json()
        assert body["ok"] is True
        assert body["message"]["blocks"][0]["text"]["text"] == "form"
        query = {"channel": "C0OPS", "text": "q", "team_id": "T0LOCAL", "unknown_arg": "ignored"}
        headers = {"Authorization": f"Bearer {slack.bot_token}"}
        async with session.post(
            f"{slack.api_url}chat.postMessage", params=query, headers=headers
        ) as resp:
            assert (await resp.json())["ok"] is True
        async with session.post(
            f"{slack.api_url}chat.postMessage",
            data={"token": slack.bot_token, "channel": "C0OPS", "text": "t", "blocks": "[not json"},
        ) as resp:
            assert (await resp.json())["error"] == "invalid_blocks_format"
        async with session.post(f"{slack.api_url}no.such.method", headers=headers) as resp:
            assert (await resp.json())["error"] == "unknown_method"
    logged = slack.calls("chat.postMessage")
    assert [c.ok for c in logged] == [True, True, False]
    assert "token" not in logged[0].args
    assert logged[1].args["unknown_arg"] == "ignored"


async def test_files_upload_v2_attaches_to_thread(slack: LocalSlack, web: AsyncWebClient) -> None:
    parent_ts = await slack.post_message(channel="C0OPS", user="U0ALICE", text="trace please")
    resp = await web.files_upload_v2(
        channel="C0OPS",
        thread_ts=parent_ts,
        content="line 1\nline 2\n",
        filename="trace.txt",
        title="Trace",
        initial_comment="here you go",
    )
    file_id = resp["file"]["id"]
    assert resp["file"]["title"] == "Trace"
    [reply] = slack.thread(channel="C0OPS", ts=parent_ts)[1:]
    assert reply["text"] == "here you go"
    assert reply["files"][0]["id"] == file_id
    assert reply["files"][0]["name"] == "trace.txt"
    assert slack.file_content(file_id) == b"line 1\nline 2\n"
    [listed] = slack.files()
    assert listed["channels"] == ["C0OPS"]
    info = await web.files_info(file=file_id)
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            info["file"]["url_private"], headers={"Authorization": f"Bearer {slack.bot_token}"}
        ) as download,
    ):
        assert await download.read() == b"line 1\nline 2\n"
    flow = [c.method for c in slack.calls() if c.method.startswith("files.")]
    assert flow == ["files.getUploadURLExternal", "files.completeUploadExternal", "files.info"]


async def test_uploads_take_files_past_a_megabyte_and_refuse_past_slacks_limit(
    slack: LocalSlack, web: AsyncWebClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slack takes files up to 1 GB; aiohttp's default body limit (1 MB) refused more."""
    big = b"0123456789abcdef" * (3 * 65536)  # 3 MB
    resp = await web.files_upload_v2(channel="C0OPS", content=big, filename="big.txt")
    assert slack.file_content(resp["file"]["id"]) == big
    monkeypatch.setattr(methods_files, "MAX_FILE_BYTES", 2 * 1024 * 1024)
    with pytest.raises(SlackRequestError, match="413"):
        await web.files_upload_v2(channel="C0OPS", content=big, filename="big.txt")
    assert len(slack.files()) == 1
    # Multipart (how curl -F and other clients send it): the same limit.
    for size, status in ((1024 * 1024, 200), (len(big), 413)):
        url = await web.files_getUploadURLExternal(filename="part.txt", length=size)
        form = aiohttp.FormData()
        form.add_field("file", big[:size], filename="part.txt")
        async with aiohttp.ClientSession() as http, http.post(url["upload_url"], data=form) as r:
            assert r.status == status
            if status == 200:
                assert slack.file_content(url["file_id"]) == big[:size]


async def test_upload_into_unjoined_channel_fails(web: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as info:
        await web.files_upload_v2(channel="C0RANDOM", content="x", filename="x.txt")
    assert info.value.response["error"] == "not_in_channel"
