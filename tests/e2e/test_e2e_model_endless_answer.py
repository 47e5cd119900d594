"""A model server that streams one answer for ever (it ignores ``max_tokens``): through the
real Bolt app and slack_sdk, the thread shows what arrived, cut at the answer cap, and a
note that signoff cut it off; the session ends, and the stop button was not needed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from live_kit import FakeAnthropic, anthropic_api, anthropic_bot, final_replies, slack
from signoff_e2e_kit import bot_messages, mention, session_states, until

from agent_core.providers import ANSWER_CHARS_PER_TOKEN
from bot.config import Settings
from localslack import LocalSlack
from sessions import SessionState

__all__ = ["anthropic_api", "slack"]

LIMIT = 256  # SIGNOFF_MAX_OUTPUT_TOKENS's least: the cap is reached within a second
START = "The api service is "


async def test_an_endless_answer_is_cut_and_told_in_the_thread(
    slack: LocalSlack,
    monkeypatch: pytest.MonkeyPatch,
    anthropic_api: FakeAnthropic,
    start_bot: Callable[..., Any],
    settings: Settings,
) -> None:
    # message_start, ping, content_block_start, 4 text pieces, then "and on " for ever.
    anthropic_api.reply(START, break_after=7, break_with="endless")
    bot = await anthropic_bot(monkeypatch, anthropic_api, start_bot)(max_output_tokens=LIMIT)
    thread = await mention(slack, "how is api?")
    await until(lambda: len(final_replies(slack, thread)) == 2, timeout=30)
    await bot.engine.idle()

    answer, note = [m["text"] for m in bot_messages(slack, thread)]
    assert answer.startswith(START + "and on ")
    assert len(answer) >= LIMIT * ANSWER_CHARS_PER_TOKEN  # what arrived is kept
    assert "went on far past its output limit, so signoff cut it off" in note, note
    assert len(anthropic_api.requests) == 1  # not tried again
    assert list(session_states(settings.home).values()) == [SessionState.COMPLETED.value]
