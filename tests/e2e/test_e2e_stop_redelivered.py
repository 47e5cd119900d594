"""A stop Slack delivers again after its ack went missing, through the wire.

Slack delivers an event again, the same ``event_id`` and ``event_ts`` with
``retry_attempt`` set, when it did not get the ack (a socket that dropped just after the
stop was applied). A stop applies to what waited when it was made: a request asked after
it was handled (Alice asks again once the thread said it stopped) is not the stopper's
to withdraw on that click. Before, a redelivery could withdraw such a request (its card
denied "stopped from Slack by …") that the thread's confirmation never named; now it
leaves it waiting and says nothing more. So does a second click's, which the thread was
not told of (the first one's confirmation said it all).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from live_kit import (
    FakeAnthropic,
    ToolUse,
    anthropic_api,
    anthropic_bot,
    held_tool_module,
    slack,
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
    until,
    wait_card,
)

from bot.app import SignoffBot
from bot.config import Settings
from localslack import Delivery, LocalSlack
from sessions import FixedClock

__all__ = ["anthropic_api", "slack"]


@pytest.mark.parametrize("click", ["first", "second"])
async def test_a_redelivered_stop_leaves_a_request_asked_after_it_waiting(
    click: str,
    slack: LocalSlack,
    monkeypatch: pytest.MonkeyPatch,
    anthropic_api: FakeAnthropic,
    start_bot: Callable[..., Any],
    settings: Settings,
    tmp_path: Path,
    e2e_clock: FixedClock,
) -> None:
    # The model checks api (a call the test holds); asked again, it restarts it (a request).
    anthropic_api.reply(
        "I will check api first.", ToolUse("held_check", {"target": "api"}, id="toolu_01C")
    )
    anthropic_api.reply(
        "I will restart api.", ToolUse("restart_service", {"service": "api"}, id="toolu_01R")
    )
    module = held_tool_module(monkeypatch, tmp_path)
    bot: SignoffBot = await anthropic_bot(monkeypatch, anthropic_api, start_bot)(
        tool_modules=(module,)
    )
    home = settings.home
    thread = await mention(slack, "check api and restart it")
    await until(lambda: (home / "held-api").exists(), what="the check to run")

    # Bob stops it while the check runs: nothing waited then, and the thread is told so.
    # Slack leaves the stop button until the turn ends: "second", he clicks it twice (the
    # second click withdraws nothing more, so it says nothing), and Slack delivers that
    # click again.
    clicks: list[Delivery] = []
    for _ in range(2 if click == "second" else 1):
        clicked = await slack.stop_agent_session(user="U0BOB", channel=OPS, thread_ts=thread)
        assert clicked is not None
        clicks.append(await slack.wait_for_ack(clicked.envelope_id))
    stopped = clicks[-1]
    # The check finishes; a minute later Alice asks for the restart (a request).
    (home / "release").write_text("")
    confirmed = await bot_reply(slack, thread, "Stopped by <@U0BOB>")
    await bot.engine.idle()
    e2e_clock.advance(timedelta(minutes=1))
    await mention(slack, "restart api now", thread_ts=thread, user="U0ALICE")
    approval = approval_id_of(await wait_card(slack, thread))
    await bot.engine.idle()
    assert approval not in confirmed["text"]
    waiting_before = decision(home, approval)

    # Slack delivers the stop again, as it does when the ack went missing.
    again = await slack.redeliver(envelope_id=stopped.envelope_id)
    acked = await slack.wait_for_ack(again.envelope_id)
    assert acked.retry_attempt == 1 and acked.event_id == stopped.event_id
    await bot.engine.idle()

    # The request asked after the stop still waits for its approvers, as it did before.
    assert waiting_before is None
    assert decision(home, approval) is None
    assert has_buttons(cards(slack, thread)[0])
    assert [m["text"] for m in bot_messages(slack, thread, "Stopped by")] == [confirmed["text"]]
