"""What the thread shows while signoff works, through the real Bolt app: the status line
and the agent session follow a request from the mention to its park and, after the
approval, to the end; the stop button stops a turn and withdraws what it asked."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from live_kit import (
    FakeAnthropic,
    ToolUse,
    anthropic_api,
    anthropic_bot,
    final_replies,
    slack,
    status_sets,
    statuses,
)
from signoff_e2e_kit import (
    OPS,
    approval_id_of,
    bot_messages,
    bot_reply,
    cards,
    decision,
    has_buttons,
    mention,
    restarts,
    session_dirs,
    session_record,
    until,
    wait_card,
)

from bot.app import SignoffBot
from bot.cards import APPROVE
from bot.config import Settings
from localslack import LocalSlack

__all__ = ["anthropic_api", "slack"]

Start = Callable[..., Awaitable[SignoffBot]]


def session_steps(slack: LocalSlack, thread: str) -> list[str]:
    session = slack.agent_session(channel=OPS, thread_ts=thread)
    return [] if session is None else [step["status"] for step in session["history"]]


async def test_status_and_session_follow_a_request_to_its_park_and_its_end(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    await slack.wait_for_session_status(channel=OPS, thread_ts=thread, status="suspended")
    # The card is posted (a post clears the status line) and the thread still says it waits.
    await until(
        lambda: (
            (slack.thread_status(channel=OPS, thread_ts=thread) or {}).get("status")
            == "is waiting for approval"
        )
    )
    assert session_steps(slack, thread) == ["processing", "suspended"]
    shown = [s for s, cause in statuses(slack, thread) if cause == "set"]
    assert shown[:2] == ["is thinking…", "is running restart_service…"]
    session = slack.agent_session(channel=OPS, thread_ts=thread)
    assert session is not None and session["title"] == "restart api"

    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await bot_reply(slack, thread, "restart_service` finished")
    await slack.wait_for_session_status(channel=OPS, thread_ts=thread, status="active")
    await bot.engine.idle()
    await until(lambda: slack.thread_status(channel=OPS, thread_ts=thread) is None)
    assert session_steps(slack, thread) == ["processing", "suspended", "processing", "active"]
    assert statuses(slack, thread)[-1][0] == ""  # cleared at the end
    assert restarts(settings.home) == 1
    # With a status line there is no need for the reaction.
    assert not slack.calls("reactions.add")


async def test_the_stop_button_cancels_the_turn_and_withdraws_its_requests(
    slack: LocalSlack,
    monkeypatch: pytest.MonkeyPatch,
    anthropic_api: FakeAnthropic,
    start_bot: Callable[..., Any],
    settings: Settings,
) -> None:
    anthropic_api.reply(
        "I will restart api.", ToolUse("restart_service", {"service": "api"}, id="toolu_01R")
    )
    long_answer = " ".join(f"step {n} of a very long explanation." for n in range(200))
    anthropic_api.reply(long_answer, chunk_delay=0.05)
    bot = await anthropic_bot(monkeypatch, anthropic_api, start_bot)()
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)

    # A follow-up in the thread starts a new turn; Bob stops it while the model writes.
    await mention(slack, "and explain what you will do", thread_ts=thread, user="U0ALICE")
    await slack.wait_for_stream(channel=OPS, thread_ts=thread, state="streaming")
    await slack.wait_for_session_status(channel=OPS, thread_ts=thread, status="processing")
    await until(lambda: len(session_steps(slack, thread)) >= 3)
    delivery = await slack.stop_agent_session(user="U0BOB", channel=OPS, thread_ts=thread)
    assert delivery is not None
    await slack.wait_for_ack(delivery.envelope_id)

    confirmed = await bot_reply(slack, thread, "Stopped by <@U0BOB>")
    assert f"its request {approval} is withdrawn" in confirmed["text"]
    await slack.wait_for_session_status(channel=OPS, thread_ts=thread, status="active")
    await bot.engine.idle()
    # The request is denied on Bob's word, and its card says so.
    recorded = decision(settings.home, approval)
    assert recorded is not None
    assert (recorded["verdict"], recorded["deciders"]) == ("denied", ["U0BOB"])
    assert recorded["reason"] == "stopped from Slack by <@U0BOB>"
    [shown] = cards(slack, thread)
    assert not has_buttons(shown)
    assert "stopped from Slack by <@U0BOB>" in str(shown["blocks"])
    # The stopped turn is cancelled, with the stop as its reason, and left no answer.
    # (Then the child that records the withdrawal for the model stops there too.)
    cancelled = [s for s in sessions_of(settings) if s["state"] == "cancelled"]
    assert sorted(s["cause"] for s in cancelled) == ["decision", "message"]
    for stopped in cancelled:
        assert stopped["transitions"][-1]["reason"] == "stopped from Slack by <@U0BOB>"
        ended = trace_events(settings, stopped["id"], "session_ended")
        assert ended == [{"state": "cancelled", "reason": "stopped from Slack by <@U0BOB>"}]
    assert not [m for m in final_replies(slack, thread) if "step 1 of" in m["text"]]
    assert not [m for m in bot_messages(slack, thread) if "step 1 of" in m.get("text", "")]
    assert restarts(settings.home) == 0
    assert len(anthropic_api.requests) == 2  # the stop did not let the model go on


def trace_events(settings: Settings, session_id: str, kind: str) -> list[Any]:
    path = settings.home / "sessions" / session_id[5:7] / session_id / "trace.jsonl"
    events = [json.loads(line) for line in path.read_text().splitlines()]
    return [e["data"] for e in events if e["kind"] == kind]


def sessions_of(settings: Settings) -> list[dict[str, Any]]:
    return [session_record(settings.home, path.name) for path in session_dirs(settings.home)]


async def test_a_stop_while_the_model_writes_cancels_the_call_and_runs_none_of_it(
    slack: LocalSlack,
    monkeypatch: pytest.MonkeyPatch,
    anthropic_api: FakeAnthropic,
    start_bot: Callable[..., Any],
    settings: Settings,
) -> None:
    services = ["api", "web", "worker", "db"]
    anthropic_api.reply(
        "Checking all four services, slowly and one by one, as you asked me to.",
        *[
            ToolUse("service_status", {"service": s}, id=f"toolu_0{n}")
            for n, s in enumerate(services)
        ],
        chunk_delay=0.1,
    )
    bot = await anthropic_bot(monkeypatch, anthropic_api, start_bot)()
    thread = await mention(slack, "check everything")
    await slack.wait_for_stream(channel=OPS, thread_ts=thread, state="streaming")
    await slack.stop_agent_session(user="U0ALICE", channel=OPS, thread_ts=thread)
    await bot_reply(slack, thread, "Stopped by <@U0ALICE>")
    await bot.engine.idle()
    [stopped] = sessions_of(settings)
    assert stopped["state"] == "cancelled"
    assert trace_events(settings, stopped["id"], "model_turn") == []  # cut off, not recorded
    assert trace_events(settings, stopped["id"], "tool_started") == []
    [stream] = slack.streams(channel=OPS)
    assert stream["stopped_by"] == "user"
    await until(lambda: slack.message(channel=OPS, ts=stream["ts"]) is None)  # no half answer
    assert [m["text"] for m in bot_messages(slack, thread)] == [
        "Stopped by <@U0ALICE>. I will not go on with this."
    ]


async def test_a_stop_clicked_twice_is_confirmed_once(
    slack: LocalSlack,
    monkeypatch: pytest.MonkeyPatch,
    anthropic_api: FakeAnthropic,
    start_bot: Callable[..., Any],
) -> None:
    # Slack leaves the stop button until signoff moves the session (when the turn ends):
    # a double click, or two people at once, must not tell the thread twice.
    anthropic_api.reply(
        "Checking all four services, slowly and one by one, as you asked me to.",
        *[ToolUse("service_status", {"service": s}, id=f"toolu_0{n}") for n, s in enumerate("ab")],
        chunk_delay=0.1,
    )
    bot = await anthropic_bot(monkeypatch, anthropic_api, start_bot)()
    thread = await mention(slack, "check everything")
    await slack.wait_for_stream(channel=OPS, thread_ts=thread, state="streaming")
    first = await slack.stop_agent_session(user="U0ALICE", channel=OPS, thread_ts=thread)
    second = await slack.stop_agent_session(user="U0BOB", channel=OPS, thread_ts=thread)
    assert first is not None and second is not None
    await slack.wait_for_ack(first.envelope_id)
    await slack.wait_for_ack(second.envelope_id)
    await bot.engine.idle()  # every reply queued is delivered
    assert [m["text"] for m in bot_messages(slack, thread)] == [
        "Stopped by <@U0ALICE>. I will not go on with this."
    ]


async def test_a_reply_clears_the_status_line_so_signoff_does_not_clear_it_again(
    slack: LocalSlack, bot: SignoffBot
) -> None:
    # Slack clears the status line when the app posts in the thread: a turn that answers
    # needs no call to clear it (a plain answer costs one setStatus, not two).
    thread = await mention(slack, "how is api?")
    await bot_reply(slack, thread, "api")
    await bot.engine.idle()
    await until(lambda: slack.thread_status(channel=OPS, thread_ts=thread) is None)
    assert statuses(slack, thread)[-1] == ("", "reply")
    assert bot.live is not None
    await bot.live.settle()  # what would still be done about the status line, done now
    sets = status_sets(slack, thread)
    assert sets[0] == "is thinking…" and "" not in sets  # each step shown, never cleared twice


async def test_a_turn_that_posts_nothing_still_clears_its_status_line(
    slack: LocalSlack,
    monkeypatch: pytest.MonkeyPatch,
    anthropic_api: FakeAnthropic,
    start_bot: Callable[..., Any],
    settings: Settings,
) -> None:
    # After an approved call ran, the model has nothing to add: that turn posts nothing
    # (the card shows how the call ended), and its "is thinking…" must still go.
    anthropic_api.reply("", ToolUse("restart_service", {"service": "api"}, id="toolu_01R"))
    anthropic_api.reply("")
    await anthropic_bot(monkeypatch, anthropic_api, start_bot)()
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await until(lambda: "completed" in [s["state"] for s in sessions_of(settings)])
    await until(lambda: slack.thread_status(channel=OPS, thread_ts=thread) is None)
    assert statuses(slack, thread)[-1] == ("", "cleared")
    assert status_sets(slack, thread)[-2:] == ["is thinking…", ""]
    said = [str(m.get("text", "")) for m in slack.thread(channel=OPS, ts=thread)]
    assert not [t for t in said if "empty answer" in t]  # the card told how it ended


async def test_an_empty_answer_to_a_question_is_said_not_left_as_silence(
    slack: LocalSlack,
    monkeypatch: pytest.MonkeyPatch,
    anthropic_api: FakeAnthropic,
    start_bot: Callable[..., Any],
) -> None:
    anthropic_api.reply("")  # no text, no tool call
    await anthropic_bot(monkeypatch, anthropic_api, start_bot)()
    thread = await mention(slack, "anything?")
    await bot_reply(slack, thread, "The model gave an empty answer")
    await until(lambda: slack.thread_status(channel=OPS, thread_ts=thread) is None)
