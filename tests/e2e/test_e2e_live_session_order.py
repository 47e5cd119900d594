"""The agent session shows the truth whatever order its calls land in (real Bolt app).

Two paths move a thread's agent session: the live view (``agents.sessions.setStatus``) and
each streamed reply's ``chat.stopStream``, sent by the reply's delivery with the session
status it must leave (``processing`` while the turn runs). The two are not ordered: a
stopStream read while the turn ran can land after the turn's own ``active``, and Slack
then shows the stop button of a turn that is over. LocalSlack holds the stopStream
(``hold_calls``) so that it lands late, deterministically.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from live_kit import FakeAnthropic, ToolUse, anthropic_api, anthropic_bot, final_replies, slack
from signoff_e2e_kit import OPS, mention, until, wait_card

from bot.app import SignoffBot
from localslack import LocalSlack

__all__ = ["anthropic_api", "slack"]

Start = Callable[..., Awaitable[SignoffBot]]


@pytest.fixture
def start(
    monkeypatch: pytest.MonkeyPatch, anthropic_api: FakeAnthropic, start_bot: Callable[..., Any]
) -> Start:
    return anthropic_bot(monkeypatch, anthropic_api, start_bot)


def session_status(slack: LocalSlack, thread: str) -> str | None:
    session = slack.agent_session(channel=OPS, thread_ts=thread)
    return None if session is None else str(session["status"])


def stop_streams(slack: LocalSlack) -> list[str | None]:
    return [c.args.get("session_status") for c in slack.calls("chat.stopStream")]


async def test_a_stop_stream_landing_after_the_turn_ended_leaves_no_stop_button(
    slack: LocalSlack, start: Start, anthropic_api: FakeAnthropic
) -> None:
    anthropic_api.reply(
        "Let me look at the api service first, then I will tell you.",
        ToolUse("service_status", {"service": "api"}, id="toolu_01S"),
        chunk_delay=0.1,
    )
    anthropic_api.reply("The api is healthy.")  # whole at once: posted, no stream of its own
    late = slack.hold_calls(method="chat.stopStream")
    bot = await start()
    thread = await mention(slack, "is api ok?")
    # The first reply is finalized while the turn runs: its stopStream says "processing"...
    await late.wait_held(timeout=30)
    # ...and is slow on its way: the turn goes on, ends, and says so first.
    await slack.wait_for_session_status(channel=OPS, thread_ts=thread, status="active", timeout=30)
    late.release()
    await until(lambda: len(final_replies(slack, thread)) == 2, timeout=30)
    await bot.engine.idle()
    assert bot.live is not None
    await bot.live.settle()
    assert stop_streams(slack)[0] == "processing"  # the order this test is about
    assert session_status(slack, thread) == "active"


async def test_a_stop_stream_landing_after_the_wait_began_leaves_no_stop_button(
    slack: LocalSlack, start: Start, anthropic_api: FakeAnthropic
) -> None:
    """The text before a card is finalized while its turn runs ("processing") and lands
    after the turn parked ("suspended"): for the days an approval can wait, the thread
    would show the stop button of a turn that is not running."""
    anthropic_api.reply(
        "I will restart the api service once someone approves it.",
        ToolUse("restart_service", {"service": "api"}, id="toolu_01R"),
        chunk_delay=0.1,
    )
    late = slack.hold_calls(method="chat.stopStream")
    bot = await start()
    thread = await mention(slack, "restart api")
    await late.wait_held(timeout=30)
    await slack.wait_for_session_status(
        channel=OPS, thread_ts=thread, status="suspended", timeout=30
    )
    late.release()
    await wait_card(slack, thread, timeout=30)  # posted after the text
    await bot.engine.idle()
    assert bot.live is not None
    await bot.live.settle()
    assert session_status(slack, thread) == "suspended"
    carried = [args.get("session_status") for args in late.held]
    if carried == ["suspended"]:  # seen once in ~30 loaded runs (fresh-clone CI)
        pytest.skip("the turn parked before the text's stopStream was sent: no late landing")
    assert carried == ["processing"]
