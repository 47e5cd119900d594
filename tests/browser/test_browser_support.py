"""What the browser UI stands on, without a browser: LocalSlack's state file, the change
stream, the UI's JSON API, composing mentions, and `--clock-offset`."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import ConfigError
from bot.dev import OffsetClock, parse_offset
from localslack import LocalSlack, WorkspaceConfig
from localslack.persist import restore
from localslack.ui import compose_text

OPS = "C0OPS"
CARD: list[dict[str, Any]] = [
    {"type": "header", "text": {"type": "plain_text", "text": "Approval needed"}},
    {
        "type": "actions",
        "elements": [
            {"type": "button", "action_id": "ok", "text": {"type": "plain_text", "text": "OK"}}
        ],
    },
]


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(var, raising=False)


def test_compose_text_turns_known_names_into_slack_markup() -> None:
    users = {"alice": "U0ALICE", "signoff": "U0SIGNOFF"}
    channels = {"ops": "C0OPS"}
    assert (
        compose_text("@signoff restart api, cc @Alice in #ops", users=users, channels=channels)
        == "<@U0SIGNOFF> restart api, cc <@U0ALICE> in <#C0OPS>"
    )
    assert compose_text("mail bob@alice.test #1 @nobody", users=users, channels=channels) == (
        "mail bob@alice.test #1 @nobody"
    )
    assert compose_text("<@U0ALICE> already", users=users, channels=channels) == (
        "<@U0ALICE> already"
    )


def test_clock_offsets() -> None:
    assert parse_offset("2d") == timedelta(days=2)
    assert parse_offset("1d12h") == timedelta(hours=36)
    assert parse_offset("-90m") == timedelta(minutes=-90)
    assert parse_offset("0") == timedelta(0)
    for bad in ("2 days", "d", "2x", "1.5d", ""):
        with pytest.raises(ConfigError):
            parse_offset(bad)
    clock = OffsetClock(timedelta(days=2))
    assert abs(clock.now() - datetime.now(UTC) - timedelta(days=2)) < timedelta(seconds=5)
    assert abs(clock.timestamp() - time.time() - 2 * 86400) < 5


async def test_the_state_file_keeps_the_workspace_across_restarts(tmp_path: Path) -> None:
    state = tmp_path / "dev" / "state.json"
    async with LocalSlack(WorkspaceConfig(), state_file=state) as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        ts = await slack.post_message(channel=OPS, user="U0ALICE", text="<@U0SIGNOFF> hi")
        card = await client.chat_postMessage(channel=OPS, thread_ts=ts, text="card", blocks=CARD)
        await client.reactions_add(channel=OPS, timestamp=ts, name="eyes")
        await slack.add_reaction(channel=OPS, ts=ts, user="U0BOB", name="eyes")
        await client.chat_postEphemeral(channel=OPS, user="U0BOB", text="psst")
        await client.files_upload_v2(
            channel=OPS, thread_ts=ts, content="trace text", filename="t.txt", title="T"
        )
        before = {m["ts"] for m in slack.thread(channel=OPS, ts=ts)}
        await asyncio.sleep(0.5)
        # Written shortly after the changes, not only at stop.
        early = json.loads(state.read_text())
        assert len(early["messages"][OPS]) == 3
    assert not [p for p in state.parent.iterdir() if p.name != "state.json"]  # no temp files

    # Started again with its clock set back a day: everything is there, and new messages
    # still sort after the old ones.
    a_day_ago = lambda: time.time() - 86400  # noqa: E731
    async with LocalSlack(WorkspaceConfig(), state_file=state, clock=a_day_ago) as slack:
        thread = slack.thread(channel=OPS, ts=ts)
        assert {m["ts"] for m in thread} == before
        parent = thread[0]
        assert parent["reply_count"] == 2
        assert parent["reactions"] == [
            {"name": "eyes", "users": ["U0SIGNOFF", "U0BOB"], "count": 2}
        ]
        restored_card = slack.message(channel=OPS, ts=card["ts"])
        assert restored_card is not None and restored_card["blocks"][1]["type"] == "actions"
        assert [e["text"] for e in slack.ephemeral_messages(user="U0BOB")] == ["psst"]
        assert slack.ephemeral_messages(user="U0ALICE") == []
        (stored,) = slack.files()
        assert stored["title"] == "T"
        assert slack.file_content(stored["id"]) == b"trace text"
        newer = await slack.post_message(channel=OPS, user="U0CAROL", text="later")
        assert newer > max(before)


async def test_an_unreadable_state_file_stops_the_start_and_says_where(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("{not json")
    with pytest.raises(ValueError, match=r"state\.json.*move the file away"):
        await LocalSlack(WorkspaceConfig(), state_file=state).start()


def test_a_state_file_from_another_team_is_refused() -> None:
    slack = LocalSlack(WorkspaceConfig())
    with pytest.raises(ValueError, match="team"):
        restore(slack._rt, {"schema": "localslack-state/1", "team_id": "T0OTHER"})
    with pytest.raises(ValueError, match="schema"):
        restore(slack._rt, {"schema": "something else"})


async def test_the_event_stream_announces_changes_and_never_holds_up_stop() -> None:
    slack = LocalSlack(WorkspaceConfig())
    await slack.start()
    async with aiohttp.ClientSession() as http:
        stream = await http.get(f"{slack.url}/_ui/events")
        hello = await asyncio.wait_for(stream.content.readuntil(b"\n\n"), 5)
        assert b"event: hello" in hello
        posted = await http.post(
            f"{slack.url}/_ui/api/message",
            json={"user": "U0ALICE", "channel": OPS, "text": "@signoff status of api"},
        )
        assert (await posted.json())["ok"]
        change = await asyncio.wait_for(stream.content.readuntil(b"\n\n"), 5)
        assert change.startswith(b"data: ") and json.loads(change[6:])["revision"] >= 1
        started = time.monotonic()
        await slack.stop()  # with the stream still open
        assert time.monotonic() - started < 3
    (message,) = slack.messages(channel=OPS)
    assert message["text"] == "<@U0SIGNOFF> status of api"


async def test_the_ui_api_shows_each_person_only_their_own(tmp_path: Path) -> None:
    async with LocalSlack(WorkspaceConfig()) as slack, aiohttp.ClientSession() as http:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        await client.chat_postEphemeral(channel=OPS, user="U0ALICE", text="for alice")

        async def state(user: str, channel: str = OPS) -> tuple[int, dict[str, Any]]:
            query = {"user": user, "channel": channel}
            async with http.get(f"{slack.url}/_ui/api/state", params=query) as response:
                return response.status, await response.json()

        status, alice = await state("U0ALICE")
        assert status == 200 and [m["text"] for m in alice["messages"]] == ["for alice"]
        status, bob = await state("U0BOB")
        assert status == 200 and bob["messages"] == []
        status, private = await state("U0BOB", "C0PRIVATE")
        assert status == 403 and private["error"] == "not_in_channel"

        page = await http.get(f"{slack.url}/", headers={"Accept": "text/html"})
        assert page.url.path == "/ui/" and "<title>LocalSlack</title>" in await page.text()
        described = await http.get(f"{slack.url}/", headers={"Accept": "application/json"})
        assert (await described.json())["service"] == "localslack"
        for name in ("app.js", "core.js", "messages.js", "blockkit.js", "style.css"):
            assert (await http.get(f"{slack.url}/ui/{name}")).status == 200
        assert (await http.get(f"{slack.url}/ui/../server.py")).status == 404


def test_signoff_dev_says_so_when_its_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", "dev", "--port", str(port)],
            env={**env, "SIGNOFF_HOME": str(tmp_path / "home")},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2, done.stdout + done.stderr
    # One line on stderr, like every error of the CLI.
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "--port" in done.stderr and done.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("message", {"user": "U0ALICE", "channel": OPS, "text": "hi", "thread_ts": {"a": 1}}),
        ("message", {"user": ["U0ALICE"], "channel": OPS, "text": "hi"}),
        ("submit", {"user": "U0ALICE", "values": ["not", "a", "map"]}),
        ("submit", {"user": "U0ALICE", "view_id": 7}),
        ("click", {"user": "U0ALICE", "channel": OPS, "ts": "1.2", "action_id": {"x": 1}}),
    ],
)
async def test_the_ui_api_answers_a_malformed_request_with_a_clear_400(
    path: str, body: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """A field of the wrong type (a map for ``thread_ts``, a list for ``values``) was a
    500 and a traceback in signoff dev's console; it is a 400 naming the field."""
    async with LocalSlack(WorkspaceConfig()) as slack, aiohttp.ClientSession() as http:
        response = await http.post(f"{slack.url}/_ui/api/{path}", json=body)
        answer = await response.json()
        assert response.status == 400, answer
    assert answer["ok"] is False and answer["error"] == "invalid_argument", answer
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


async def test_signoff_dev_tokens_are_its_own(tmp_path: Path) -> None:
    """The playground's Web API took LocalSlack's well-known default tokens, so a page
    elsewhere in a browser that says nothing of where a request comes from (no
    ``Sec-Fetch-Site``) posted as the bot with an ``<img>`` of a GET. Each ``signoff dev``
    now makes its own; the bot, given them, still connects (it printed the URL)."""
    from browser_kit import DevProcess

    default = WorkspaceConfig()
    running = DevProcess(tmp_path / "home", "--port", "0")
    try:
        async with aiohttp.ClientSession() as http:
            for token in (default.bot_token, default.app_token):
                answer = await http.get(f"{running.url}/api/auth.test", params={"token": token})
                body = await answer.json()
                assert body.get("error") == "invalid_auth", body
    finally:
        running.stop()
