"""``/signoff`` through LocalSlack: every answer is ephemeral (via the ``response_url``) and
goes to the person who typed the command only; a long trace is uploaded as a file."""

from __future__ import annotations

import asyncio
import html
import logging
import os
import threading
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from signoff_e2e_kit import (
    OPS,
    approval_id_of,
    bot_reply,
    ephemeral_texts,
    lineage,
    mention,
    session_path,
    until,
    wait_card,
    write_policy,
)

from bot.app import SignoffBot
from bot.cards import APPROVE
from bot.config import Settings
from localslack import LocalSlack, Timing
from sessions import FixedClock, atomic, jsonl

if TYPE_CHECKING:
    from conftest import BotFactory


GROUP_POLICY = '[tools.restart_service]\napprovers = ["S0APPROVERS"]\n'


async def signoff(slack: LocalSlack, user: str, text: str, contains: str) -> str:
    """Run ``/signoff <text>`` as ``user``; the ephemeral answer that contains ``contains``."""
    before = len(slack.ephemeral_messages(user=user))
    interaction = await slack.slash_command(command="/signoff", user=user, channel=OPS, text=text)
    # The answer is the message that arrives after the command: an earlier answer may contain
    # ``contains`` too (the same trace asked for twice), so it must not count.
    new = await until(lambda: slack.ephemeral_messages(user=user)[before:], what="the answer")
    delivery = await slack.wait_for_ack(interaction.envelope_id)
    assert not delivery.user_saw_error and not delivery.late_ack
    assert len(slack.ephemeral_messages(user=user)) == before + 1  # one answer per command
    answer = new[0]
    assert contains in str(answer.get("text", "")), answer
    assert answer["channel"] == OPS
    return str(answer["text"])


async def test_help_and_unknown_verbs(slack: LocalSlack, bot: SignoffBot) -> None:
    text = await signoff(slack, "U0CAROL", "help", "/signoff trace [session-id]")
    for verb in ("sessions", "pending", "help"):
        assert f"`/signoff {verb}" in text
    assert await signoff(slack, "U0CAROL", "", "/signoff pending") == text  # bare = help
    unknown = await signoff(slack, "U0CAROL", "frobnicate now", "I don't know")
    assert unknown.startswith("I don't know `frobnicate now`")
    assert "`/signoff trace" in unknown  # it says what is possible instead
    # Nobody else saw any of it, and nothing was posted in the channel.
    assert ephemeral_texts(slack, "U0ALICE") == []
    assert not [m for m in slack.messages(channel=OPS) if m.get("bot_id")]


async def test_sessions_lists_this_channels_sessions(
    slack: LocalSlack, bot: SignoffBot, settings: Settings, e2e_clock: FixedClock
) -> None:
    assert "No sessions in this channel yet" in await signoff(
        slack, "U0BOB", "sessions", "No sessions"
    )
    thread = await mention(slack, "status of api")
    await bot_reply(slack, thread, "service=api,")
    await bot.engine.idle()
    e2e_clock.advance(timedelta(minutes=1))
    await slack.post_message(channel=OPS, user="U0ALICE", text="status of db", thread_ts=thread)
    await bot_reply(slack, thread, "service=db,")
    await bot.engine.idle()
    text = await signoff(slack, "U0BOB", "sessions", "Recent sessions here")
    ids = lineage(settings.home, thread)
    assert len(ids) == 2
    for sid in ids:
        assert f"`{sid}` completed (thread {thread}" in text


async def test_sessions_says_what_became_of_a_session_that_parked(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    # A parked session's state is final (awaiting_approval): like the trace, the list says
    # what became of it, not a wait that is over.
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await bot_reply(slack, thread, "restart_service` finished")
    await bot.engine.idle()
    text = await signoff(slack, "U0BOB", "sessions", "Recent sessions here")
    parked = lineage(settings.home, thread)[0]
    assert f"`{parked}` awaiting_approval → decided: approved by <@U0BOB>" in text
    assert "waiting for appr_" not in text


async def test_pending_lists_what_waits_for_me_and_not_my_own_requests(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path
) -> None:
    policy = write_policy(tmp_path / "group.toml", GROUP_POLICY)
    bot: SignoffBot = await start_bot(policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    await bot.engine.idle()

    # Bob is in S0APPROVERS: it waits for him.
    mine = await signoff(slack, "U0BOB", "pending", "waiting for you")
    assert mine.startswith("1 request(s) waiting for you:")
    assert f"`{approval}`" in mine
    assert "`restart_service` asked by <@U0ALICE>" in mine
    # Alice asked for it (and may not approve her own request); Carol is not an approver.
    assert await signoff(slack, "U0ALICE", "pending", "Nothing is waiting") == (
        "Nothing is waiting for your decision."
    )
    await signoff(slack, "U0CAROL", "pending", "Nothing is waiting")

    # Once decided, it waits for nobody.
    from bot.cards import APPROVE

    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await bot_reply(slack, thread, "restart_service` finished")
    await bot.engine.idle()
    await signoff(slack, "U0BOB", "pending", "Nothing is waiting")


async def test_trace_shows_the_lineage_inline_and_rejects_bad_ids(
    slack: LocalSlack, bot: SignoffBot, settings: Settings, e2e_clock: FixedClock
) -> None:
    assert "No sessions in this channel yet" in await signoff(slack, "U0BOB", "trace", "No ")
    thread = await mention(slack, "status of web")
    await bot_reply(slack, thread, "service=web,")
    await bot.engine.idle()
    e2e_clock.advance(timedelta(minutes=1))
    await slack.post_message(channel=OPS, user="U0BOB", text="status of db", thread_ts=thread)
    await bot_reply(slack, thread, "service=db,")
    await bot.engine.idle()
    first, second = lineage(settings.home, thread)

    latest = await signoff(slack, "U0CAROL", "trace", "```")
    assert latest.startswith("```") and latest.endswith("```")
    assert f"C0OPS/{thread}: 2 session(s)" in latest
    assert latest.index(first) < latest.index(second)  # oldest first
    assert f"▶ {second}" in latest  # the latest session is the one marked
    # People's names are inside an escaped code block: shown, never mentions.
    for expected in ("status of web", "status of db", "service_status", "&lt;U0ALICE&gt;"):
        assert expected in latest

    older = await signoff(slack, "U0CAROL", f"trace {first}", f"▶ {first}")
    assert f"C0OPS/{thread}: 2 session(s)" in older and second in older
    assert await signoff(slack, "U0CAROL", "trace here", f"▶ {second}") == latest

    bad = await signoff(slack, "U0CAROL", "trace not-an-id", "session id")
    assert "expected sess_ and 12 hex digits" in bad
    assert "Try `/signoff sessions`" in bad
    missing = await signoff(slack, "U0CAROL", "trace sess_0123456789ab", "No session")
    assert missing == "No session sess_0123456789ab."
    assert slack.files() == []


async def test_a_long_trace_is_uploaded_as_a_file(
    slack: LocalSlack,
    bot: SignoffBot,
    settings: Settings,
    e2e_clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    thread = await mention(slack, "status of api")
    await bot_reply(slack, thread, "service=api,")
    services = ["web", "worker", "db", "api", "web", "worker", "db"]
    for n, service in enumerate(services):
        e2e_clock.advance(timedelta(minutes=1))
        ts = await slack.post_message(
            channel=OPS, user="U0ALICE", text=f"status of {service} ({n})", thread_ts=thread
        )
        await slack.wait_for_message(
            channel=OPS,
            thread_ts=thread,
            from_bot=True,
            text_contains=f"service={service},",
            after_ts=ts,
            timeout=10,
        )
        await bot.engine.idle()
    ids = lineage(settings.home, thread)
    assert len(ids) == len(services) + 1

    text = await signoff(slack, "U0ALICE", "trace", "uploaded as a file")
    assert f"`{ids[-1]}`" in text
    # The answer goes out first, then the upload: wait for the file to be shared.
    shared_msg = await slack.wait_for_message(
        channel=OPS, predicate=lambda m: bool(m.get("files")), timeout=10
    )
    uploaded = slack.files()
    assert len(uploaded) == 1
    assert shared_msg["files"][0]["id"] == uploaded[0]["id"]
    upload = uploaded[0]
    assert upload["title"] == "signoff trace"
    content = slack.file_content(upload["id"]).decode()
    assert len(content) > 2800
    assert f"C0OPS/{thread}: {len(ids)} session(s)" in content
    for sid in ids:
        assert sid in content
    # It was shared in the channel the command came from.
    shared = [m for m in slack.messages(channel=OPS) if m.get("files")]
    assert len(shared) == 1 and shared[0]["files"][0]["id"] == upload["id"]
    assert "Trace requested by <@U0ALICE>" in shared[0]["text"]

    # An upload Slack refuses (the bot was removed from the channel, say), or whose
    # connection drops, is told to the person who was promised a file; the log has one
    # line (one line: Slack's error, not the SDK's two-line text quoting its answer), and
    # no traceback. What Slack said is its text, not signoff's: shown, never markup (a
    # proxy in the way may answer anything).
    caplog.set_level(logging.WARNING)
    faults = {
        "not_in_channel": {"method": "files.completeUploadExternal", "error": "not_in_channel"},
        "<!channel> <https://e.example|x>": {
            "method": "files.completeUploadExternal",
            "error": "<!channel> <https://e.example|x>",
        },
        "ServerDisconnectedError": {
            "method": "files.getUploadURLExternal",
            "drop_connection": True,
            "count": None,
        },
    }
    for why, fault in faults.items():
        slack.clear_faults()
        caplog.clear()
        slack.inject_fault(**fault)  # type: ignore[arg-type]
        before = len(ephemeral_texts(slack, "U0ALICE"))
        sent = await slack.slash_command(
            command="/signoff", user="U0ALICE", channel=OPS, text="trace"
        )

        def answers(before: int = before) -> list[str]:
            return ephemeral_texts(slack, "U0ALICE")[before:]

        promised, failed = await until(
            lambda: len(answers()) == 2 and answers(), what="the answer, then word of the failure"
        )
        assert "uploaded as a file" in promised
        assert html.unescape(failed) == f"The trace could not be uploaded here ({why}).", failed
        assert "<" not in failed, failed
        delivery = await slack.wait_for_ack(sent.envelope_id)
        assert not delivery.user_saw_error and not delivery.late_ack
        assert len(slack.files()) == 1
        logged = [r.getMessage() for r in caplog.records if r.name == "signoff.commands"]
        assert len(logged) == 1 and "\n" not in logged[0] and why in logged[0], logged
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_a_trace_of_a_session_that_cannot_be_read_is_answered_without_a_traceback(
    slack: LocalSlack, bot: SignoffBot, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """A damaged session record is an answer ("cannot be read"), not a listener crash that
    leaves the person with no answer at all and the log with a traceback."""
    thread = await mention(slack, "status of api")
    await bot_reply(slack, thread, "service=api,")
    await bot.engine.idle()
    (session_id,) = lineage(settings.home, thread)
    (session_path(settings.home, session_id) / "session.json").write_text("{not json")
    caplog.set_level(logging.ERROR)
    for text in (f"trace {session_id}", "trace"):
        answer = await signoff(slack, "U0CAROL", text, "cannot be read")
        assert f"`{session_id}`" in answer and "signoff verify" in answer
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_a_trace_the_disk_cannot_read_is_answered_and_logged_in_one_line(
    slack: LocalSlack, bot: SignoffBot, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """The listener guard on the slash-command path: a session record the disk refuses to
    read (here a directory in its place) escapes the command. It is acked, the person gets
    one answer naming the log line's ref, the log one line (WARNING) and no traceback."""
    thread = await mention(slack, "status of api")
    await bot_reply(slack, thread, "service=api,")
    await bot.engine.idle()
    (session_id,) = lineage(settings.home, thread)
    record = session_path(settings.home, session_id) / "session.json"
    record.unlink()
    record.mkdir()
    caplog.set_level(logging.INFO)
    caplog.clear()
    sent = await slack.slash_command(
        command="/signoff", user="U0CAROL", channel=OPS, text=f"trace {session_id}"
    )
    (told,) = await until(lambda: ephemeral_texts(slack, "U0CAROL"), what="an answer")
    delivery = await slack.wait_for_ack(sent.envelope_id)
    assert delivery.acked and not delivery.user_saw_error and not delivery.late_ack
    logged = await until(
        lambda: [r for r in caplog.records if r.name.startswith("signoff.") and r.levelno >= 30],
        what="the log line",
    )
    (line,) = [r.getMessage() for r in logged]
    # The listener guard's line: which command, how it failed, how the person was told.
    assert line.startswith("listener on_command failed after its ack: IsADirectoryError"), line
    assert "command='/signoff'" in line and "told them by response_url" in line
    assert "\n" not in line
    ref = line.split("ref=")[1].split(";")[0]
    assert told.startswith("Something went wrong on signoff's side") and f"`{ref}`" in told
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@pytest.mark.slack_timing(
    Timing(ack_timeout=1.0, server_ping_interval=None, response_url_max_uses=0)
)
async def test_an_answer_the_response_url_refuses_is_logged_not_taken_for_said(
    slack: LocalSlack, bot: SignoffBot, caplog: pytest.LogCaptureFixture
) -> None:
    """Bolt's ``respond`` returns Slack's answer instead of raising: a spent or expired
    ``response_url`` (404 ``used_url``) or an outage (5xx) came back as a response, so the
    answer was lost with no line saying so."""
    caplog.set_level(logging.INFO)
    sent = await slack.slash_command(command="/signoff", user="U0CAROL", channel=OPS, text="help")
    assert not (await slack.wait_for_ack(sent.envelope_id)).user_saw_error
    lines = await until(
        lambda: [
            r.getMessage()
            for r in caplog.records
            if r.getMessage().startswith("could not answer /signoff")
        ],
        what="the line saying the answer was refused",
    )
    assert "used_url" in lines[0], lines
    assert slack.ephemeral_messages(user="U0CAROL") == []


async def test_a_trace_short_until_escaped_is_not_answered_past_the_inline_limit(
    slack: LocalSlack, bot: SignoffBot
) -> None:
    """The inline limit was checked before escaping, and escaping makes ``&`` five
    characters and ``<`` four: a trace of 2,000 characters went out as about 8,000, past
    the 4,000 Slack advises for a message. What is measured is what is sent."""
    marks = "&<>" * 100  # the trace shows 300 characters of a message: 1,300 once escaped
    thread = await mention(slack, f"status of api {marks}")
    await bot_reply(slack, thread, "service=api,")
    for n in range(2):
        ts = await slack.post_message(
            channel=OPS, user="U0ALICE", text=f"status of db {n} {marks}", thread_ts=thread
        )
        await slack.wait_for_message(
            channel=OPS, thread_ts=thread, from_bot=True, after_ts=ts, timeout=10
        )
        await bot.engine.idle()
    text = await signoff(slack, "U0ALICE", "trace", "sess_")
    assert len(text) <= 3000 or "uploaded as a file" in text, len(text)


async def test_a_trace_slow_to_read_leaves_the_bot_serving_everything_else(
    slack: LocalSlack,
    bot: SignoffBot,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The trace was read and rendered on the bot's loop: while the disk was slow, no other
    thread was answered. Here reading it waits until the test has seen another thread
    answered meanwhile (on the loop that wait could only end by giving up, after 10 s)."""
    thread = await mention(slack, "status of api")
    await bot_reply(slack, thread, "service=api,")
    await bot.engine.idle()
    (session_id,) = lineage(settings.home, thread)
    trace = session_path(settings.home, session_id) / "trace.jsonl"
    reading, released = threading.Event(), threading.Event()
    real_read = atomic.read_file  # what jsonl reads records with

    def slow_disk(path: str | os.PathLike[str]) -> bytes:
        if Path(path) == trace:
            reading.set()
            if not released.wait(10):
                raise TimeoutError("nothing else ran while the trace was read")
        return real_read(path)

    monkeypatch.setattr(jsonl, "read_file", slow_disk)
    await slack.slash_command(
        command="/signoff", user="U0CAROL", channel=OPS, text=f"trace {session_id}"
    )
    await until(reading.is_set, what="the trace being read")
    other = await mention(slack, "status of db")
    await bot_reply(slack, other, "service=db,")
    assert ephemeral_texts(slack, "U0CAROL") == []
    released.set()
    (told,) = await until(lambda: ephemeral_texts(slack, "U0CAROL"), what="the answer")
    assert session_id in told, told
    assert "```" in told


async def test_a_trace_is_read_while_slow_tools_fill_asyncios_default_threads(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    """The trace was read on asyncio's default executor, where plain (sync) tool functions
    run: while they filled its threads (a slow restart, a hung call), /signoff had no
    thread to read on and answered nothing until one ended. Reads go on signoff's own
    disk pool (``off_loop``), as every other read of a turn's records does."""
    thread = await mention(slack, "status of api")
    await bot_reply(slack, thread, "service=api,")
    await bot.engine.idle()
    (session_id,) = lineage(settings.home, thread)
    loop = asyncio.get_running_loop()
    released = threading.Event()
    # More than the default executor's threads (min(32, CPUs + 4)): every one is taken.
    tools = [loop.run_in_executor(None, released.wait, 30) for _ in range(40)]
    try:
        text = await signoff(slack, "U0CAROL", f"trace {session_id}", session_id)
        assert "```" in text
    finally:
        released.set()
        await asyncio.gather(*tools)
