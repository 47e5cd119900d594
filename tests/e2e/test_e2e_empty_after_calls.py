"""A model that calls a tool the thread shows nothing of (one that runs without a card,
or one refused: unknown, malformed), then answers with nothing: the person who asked is
told the model gave an empty answer, not left with silence.

The empty-answer note was left out whenever the model had called any tool since the
person asked, on the ground that the thread shows the call's card or outcome. Only a
gated call has a card; a call that ran without one, or was refused before it could, shows
nothing in the thread (its live step goes with the text-less reply), so the turn ended
"completed" with no word from signoff at all. A decided call still needs no note: its
card says how it ended (``test_e2e_live_status``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from live_kit import FakeAnthropic, ToolUse, anthropic_api, anthropic_bot
from signoff_e2e_kit import bot_messages, cards, mention, session_states, until

from bot.config import Settings
from localslack import LocalSlack

__all__ = ["anthropic_api"]

EMPTY = "(The model gave an empty answer.)"


@pytest.mark.parametrize(
    "call",
    [
        ToolUse("service_status", {"service": "api"}),  # runs, no card
        ToolUse("reboot_everything", {"service": "api"}),  # no such tool
        ToolUse("restart_service", {}),  # gated, but malformed: refused before any card
    ],
    ids=["ran", "unknown", "malformed"],
)
async def test_an_empty_answer_after_calls_the_thread_shows_nothing_of_is_said(
    slack: LocalSlack,
    monkeypatch: pytest.MonkeyPatch,
    anthropic_api: FakeAnthropic,
    start_bot: Callable[..., Any],
    settings: Settings,
    call: ToolUse,
) -> None:
    anthropic_api.reply(call)  # no words, only the call
    anthropic_api.reply(stop_reason="end_turn")  # then nothing at all
    anthropic_api.reply("api is healthy.")
    bot = await anthropic_bot(monkeypatch, anthropic_api, start_bot)()
    thread = await mention(slack, "status of api")
    await until(lambda: list(session_states(settings.home).values()) == ["completed"])
    await bot.engine.idle()

    await until(lambda: bot_messages(slack, thread), timeout=5, what="any word in the thread")
    assert [m["text"] for m in bot_messages(slack, thread)] == [EMPTY]
    assert cards(slack, thread) == []

    # Asked again, the thread goes on.
    await mention(slack, "and now?", thread_ts=thread)
    await until(lambda: len(bot_messages(slack, thread)) == 2)
    assert bot_messages(slack, thread)[-1]["text"] == "api is healthy."
