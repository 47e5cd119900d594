"""A model that stays down on the turn an approval decision resumed: the thread is told
what is kept, truly. It said "Your message is saved", though no one had written since the
card was asked for: what that turn keeps is the decision and the call's outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from live_kit import FakeAnthropic, ToolUse, anthropic_api, anthropic_bot
from signoff_e2e_kit import OPS, bot_messages, mention, restarts, until, wait_card

from bot.cards import APPROVE
from bot.config import Settings
from localslack import LocalSlack

__all__ = ["anthropic_api"]


async def test_a_model_error_after_a_decision_says_what_is_kept(
    slack: LocalSlack,
    monkeypatch: pytest.MonkeyPatch,
    anthropic_api: FakeAnthropic,
    start_bot: Callable[..., Any],
    settings: Settings,
) -> None:
    anthropic_api.reply("Restarting api.", ToolUse("restart_service", {"service": "api"}))
    for _ in range(4):  # every attempt of the turn the approval resumes
        anthropic_api.error(529, headers={"retry-after-ms": "10"})
    anthropic_api.reply("api was restarted and answers again.")
    bot = await anthropic_bot(monkeypatch, anthropic_api, start_bot)()
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await until(lambda: bot_messages(slack, thread, "could not get an answer"), timeout=15)
    await bot.engine.idle()
    assert restarts(settings.home) == 1

    [told] = [m["text"] for m in bot_messages(slack, thread, "could not get an answer")]
    assert "Your message is saved" not in told, told
    assert "The decision and what came of it are saved; mention me to go on." in told, told

    await mention(slack, "go on", thread_ts=thread)
    await until(lambda: bot_messages(slack, thread, "answers again"), timeout=15)
    assert restarts(settings.home) == 1  # going on does not run the call again
