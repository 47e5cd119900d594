"""A stop that comes while one call of a reply runs keeps the reply's gated calls from
being asked, through the wire.

The model answers with a check (a call that runs) and a restart (a call a person must
approve). Bob stops the agent while the check runs. Before, the restart was asked all the
same once the check finished: a new card, with buttons, below the thread's "Stopped by"
confirmation, waiting for approvers the stopper had just told to expect nothing more (a
reply whose calls all needed approval had its requests withdrawn at once; one with a call
that ran first did not). Now no request is made under a stop: the restart is recorded as
not run, and the thread holds no card.
"""

from __future__ import annotations

import json
from collections.abc import Callable
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
from signoff_e2e_kit import OPS, bot_reply, cards, mention, until

from bot.app import SignoffBot
from bot.config import Settings
from localslack import LocalSlack

__all__ = ["anthropic_api", "slack"]


async def test_a_stop_while_a_call_runs_asks_for_no_approval_after_it(
    slack: LocalSlack,
    monkeypatch: pytest.MonkeyPatch,
    anthropic_api: FakeAnthropic,
    start_bot: Callable[..., Any],
    settings: Settings,
    tmp_path: Path,
) -> None:
    anthropic_api.reply(
        "I will check api, then restart it.",
        ToolUse("held_check", {"target": "api"}, id="toolu_01C"),
        ToolUse("restart_service", {"service": "api"}, id="toolu_01R"),
    )
    module = held_tool_module(monkeypatch, tmp_path)
    bot: SignoffBot = await anthropic_bot(monkeypatch, anthropic_api, start_bot)(
        tool_modules=(module,)
    )
    home = settings.home
    thread = await mention(slack, "check api and restart it")
    await until(lambda: (home / "held-api").exists(), what="the check to run")

    clicked = await slack.stop_agent_session(user="U0BOB", channel=OPS, thread_ts=thread)
    assert clicked is not None
    await slack.wait_for_ack(clicked.envelope_id)
    (home / "release").write_text("")
    await bot_reply(slack, thread, "Stopped by <@U0BOB>")
    await bot.engine.idle()

    assert cards(slack, thread) == []
    assert await bot.engine.waiting() == []
    # The restart is in the transcript as a call that did not run, the stop its reason.
    (restart,) = [
        r
        for path in (home / "sessions").rglob("transcript.jsonl")
        for r in map(json.loads, path.read_text().splitlines())
        if r.get("role") == "tool" and r.get("call_id") == "toolu_01R"
    ]
    assert "stopped" in restart["content"].lower(), restart
    assert len(anthropic_api.requests) == 1  # and the model was not asked again
