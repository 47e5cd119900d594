"""What a streamed reply's task steps say once the message is finished, through the real
Bolt app: Slack takes no step updates after ``chat.stopStream``, so the steps a finished
message keeps must stay true for as long as the message does.

- A person's stop (the agent session's stop button) stops the thread's streams on Slack's
  side while a tool call still runs. The call runs to its end and the calls after it do
  not run; the reply's steps must end saying so, not "in progress" for ever.
- A call that needs an approval ends its reply's step asking for it; the card is what
  says, days later, how it was decided. The step must not keep saying "waiting".
- Slack adds a step's new details to those it shows: each is said once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from live_kit import (
    FakeAnthropic,
    ToolUse,
    anthropic_api,
    anthropic_bot,
    final_replies,
    held_tool_module,
    metadata_of,
    slack,
)
from signoff_e2e_kit import OPS, bot_reply, mention, restarts, until, wait_card

from bot.app import SignoffBot
from bot.cards import APPROVE
from bot.config import Settings
from localslack import LocalSlack

__all__ = ["anthropic_api", "slack"]

Start = Callable[..., Awaitable[SignoffBot]]


@pytest.fixture
def start(
    monkeypatch: pytest.MonkeyPatch,
    anthropic_api: FakeAnthropic,
    start_bot: Callable[..., Any],
    tmp_path: Path,
) -> Start:
    module = held_tool_module(monkeypatch, tmp_path)
    started = anthropic_bot(monkeypatch, anthropic_api, start_bot)

    async def start_with_tools() -> SignoffBot:
        bot: SignoffBot = await started(tool_modules=(module,))
        return bot

    return start_with_tools


def steps(stream: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    """Each task step of a stream as Slack shows it: (title, status, details)."""
    return {t["id"]: (t["title"], t["status"], t.get("details", "")) for t in stream["tasks"]}


def the_stream(slack: LocalSlack, thread: str) -> dict[str, Any]:
    [stream] = [s for s in slack.streams(channel=OPS) if s["thread_ts"] == thread]
    return stream


def answers(slack: LocalSlack, thread: str) -> list[dict[str, Any]]:
    """The thread's replies of the model (not signoff's own, such as a stop's)."""
    return [m for m in final_replies(slack, thread) if "-stop-" not in metadata_of(m)["entry"]]


def running(slack: LocalSlack, step: str) -> bool:
    return any(
        t["id"] == step and t["status"] == "in_progress"
        for s in slack.streams(channel=OPS)
        for t in s["tasks"]
    )


async def test_a_stop_while_a_call_runs_leaves_no_step_in_progress(
    slack: LocalSlack, start: Start, anthropic_api: FakeAnthropic, settings: Settings
) -> None:
    anthropic_api.reply(
        "I will check the api first, and then the web service, one after the other.",
        ToolUse("held_check", {"target": "api"}, id="toolu_01A"),
        ToolUse("held_check", {"target": "web"}, id="toolu_01W"),
        chunk_delay=0.02,
    )
    bot = await start()
    thread = await mention(slack, "check api and web")
    home = settings.home
    await until(lambda: (home / "held-api").exists(), what="the first call to run")
    await until(lambda: running(slack, "toolu_01A"), what="the running call shown as a step")

    # Bob stops it while the first call runs: Slack stops the stream there and then.
    delivery = await slack.stop_agent_session(user="U0BOB", channel=OPS, thread_ts=thread)
    assert delivery is not None
    await slack.wait_for_ack(delivery.envelope_id)
    assert the_stream(slack, thread)["stopped_by"] == "user"
    (home / "release").write_text("")  # the running call finishes; nothing more runs
    await bot_reply(slack, thread, "Stopped by <@U0BOB>")
    await bot.engine.idle()
    stream = the_stream(slack, thread)
    await until(lambda: answers(slack, thread), what="the reply finished")
    [reply] = answers(slack, thread)
    assert reply["ts"] == stream["ts"] and metadata_of(reply)["part"] == 0
    assert not (home / "held-web").exists()
    assert steps(stream) == {
        "toolu_01A": ("held_check", "complete", ""),
        "toolu_01W": ("held_check", "error", "not run: stopped"),
    }
    await slack.wait_for_session_status(channel=OPS, thread_ts=thread, status="active")


async def test_a_step_that_asked_for_approval_stays_true_once_it_is_decided(
    slack: LocalSlack, start: Start, anthropic_api: FakeAnthropic, settings: Settings
) -> None:
    anthropic_api.reply(
        "The api needs a restart; I am asking for it now, as a person has to approve it.",
        ToolUse("restart_service", {"service": "api"}, id="toolu_01R"),
        chunk_delay=0.05,
    )
    anthropic_api.reply("The api was restarted and answers again.", chunk_delay=0.02)
    bot = await start()
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    await until(lambda: len(final_replies(slack, thread)) == 1, what="the asking reply")
    [asking] = final_replies(slack, thread)
    lasting = {"toolu_01R": ("Approval requested for restart_service", "complete", "")}
    # Finished: Slack takes no more step updates, so what it shows must stay true.
    record = slack.stream(channel=OPS, ts=asking["ts"])
    assert record is not None and record["state"] == "stopped"
    assert steps(record) == lasting

    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await until(lambda: len(final_replies(slack, thread)) == 2, timeout=10, what="the answer")
    await bot.engine.idle()
    assert restarts(settings.home) == 1
    record = slack.stream(channel=OPS, ts=asking["ts"])
    assert record is not None and steps(record) == lasting  # decided: still true
    shown = [t["status"] for s in slack.streams(channel=OPS) for t in s["tasks"]]
    assert "pending" not in shown and "in_progress" not in shown


async def test_a_step_s_details_are_said_once(
    slack: LocalSlack, start: Start, anthropic_api: FakeAnthropic
) -> None:
    """Slack adds a step's new details to those it shows: what was said while the message
    streamed must not be said again when it is finished ("errorerror")."""
    anthropic_api.reply(
        "Let me look at the service you named before I answer anything about it.",
        ToolUse("service_status", {"service": "nope"}, id="toolu_01N"),
        chunk_delay=0.05,
    )
    anthropic_api.reply("There is no service called nope.", chunk_delay=0.02)
    bot = await start()
    thread = await mention(slack, "how is nope?")
    await until(lambda: len(final_replies(slack, thread)) == 2, timeout=10, what="the answer")
    await bot.engine.idle()
    first = min(slack.streams(channel=OPS), key=lambda s: s["ts"])
    assert steps(first) == {"toolu_01N": ("service_status", "error", "error")}
