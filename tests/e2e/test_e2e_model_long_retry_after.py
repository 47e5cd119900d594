"""A provider that asks for a longer wait than signoff gives a call (over a minute: the
turn ends at once, untried again) is told with the wait it asked for, whatever its status.

A 429 said "it asks to retry after 2 h"; a 529 or a 503 asking for the same said "try
again in a few minutes", and whoever did found it still down.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from live_kit import FakeAnthropic, anthropic_api, anthropic_bot
from signoff_e2e_kit import bot_messages, mention, until

from localslack import LocalSlack

__all__ = ["anthropic_api"]


@pytest.mark.parametrize(
    ("status", "said"),
    [
        (529, "Anthropic is overloaded (529) after 1 attempt; it asks to retry after about 2 h."),
        (503, "Anthropic is overloaded (503) after 1 attempt; it asks to retry after about 2 h."),
        (500, "Anthropic had a server error (500 api_error) after 1 attempt: Internal server error; it asks to retry after about 2 h."),
        (429, "Anthropic is rate limiting us (429) after 1 attempt; it asks to retry after about 2 h."),
    ],
)  # fmt: skip
async def test_a_wait_longer_than_a_call_waits_is_told_as_asked(
    slack: LocalSlack,
    monkeypatch: pytest.MonkeyPatch,
    anthropic_api: FakeAnthropic,
    start_bot: Callable[..., Any],
    status: int,
    said: str,
) -> None:
    anthropic_api.error(status, headers={"retry-after": "7200"})
    await anthropic_bot(monkeypatch, anthropic_api, start_bot)()
    thread = await mention(slack, "status of api")
    [told] = await until(lambda: bot_messages(slack, thread), timeout=15)
    assert said in told["text"], told["text"]
    assert "a few minutes" not in told["text"]
    assert len(anthropic_api.requests) == 1  # the wait asked for is honoured: no retry
