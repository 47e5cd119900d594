"""A model answer that Slack would draw as nothing (only a terminal's escape sequences,
which the renderer drops, or only characters that draw nothing) is told as such, not
posted blank or refused.

An answer of only escape sequences (a model echoing a tool's colour codes and nothing
else) rendered as "": Slack refused the post (``no_text``), delivery gave up, and the
person who asked heard nothing at all. One of only zero-width characters was posted and
showed an empty message. Both now post a note saying the answer had nothing to show.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from live_kit import FakeAnthropic, anthropic_api, anthropic_bot
from signoff_e2e_kit import bot_messages, mention, session_states, until

from bot.config import Settings
from localslack import LocalSlack

__all__ = ["anthropic_api"]

NOTE = "(The model's answer has nothing Slack can show: only invisible or control characters.)"


@pytest.mark.parametrize(
    "answer",
    ["\x1b[31m\x1b[0m", "\u200b", "\u2060\ufeff \n", "\x1b]0;title\x07"],
    ids=["colour-codes", "zero-width", "joiners", "osc"],
)
async def test_an_answer_that_draws_nothing_is_told_not_lost(
    slack: LocalSlack,
    monkeypatch: pytest.MonkeyPatch,
    anthropic_api: FakeAnthropic,
    start_bot: Callable[..., Any],
    settings: Settings,
    answer: str,
) -> None:
    anthropic_api.reply(answer)
    bot = await anthropic_bot(monkeypatch, anthropic_api, start_bot)()
    thread = await mention(slack, "status of api")
    await until(lambda: list(session_states(settings.home).values()) == ["completed"])
    await bot.engine.idle()
    await until(lambda: bot_messages(slack, thread), timeout=5, what="any word in the thread")
    assert [m["text"] for m in bot_messages(slack, thread)] == [NOTE]
    assert [
        (c.method, c.error) for c in slack.calls() if c.method.startswith("chat.") and not c.ok
    ] == []
