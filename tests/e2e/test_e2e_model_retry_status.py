"""While the model provider fails and signoff tries again, the thread's status line says
so (a provider outage can hold a turn for minutes: "thinking" all that time would hide
it), and the reply that comes after clears it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from live_kit import (
    FakeAnthropic,
    anthropic_api,
    anthropic_bot,
    final_replies,
    shown,
    slack,
    status_sets,
)
from signoff_e2e_kit import OPS, bot_reply, mention, until

from localslack import LocalSlack

__all__ = ["anthropic_api", "slack"]


async def test_the_status_line_says_the_model_is_tried_again(
    slack: LocalSlack,
    monkeypatch: pytest.MonkeyPatch,
    anthropic_api: FakeAnthropic,
    start_bot: Callable[..., Any],
) -> None:
    # A short wait the server asks for ("0" gets the backoff: 0.5-4 s, slow for a test).
    anthropic_api.error(529, headers={"retry-after-ms": "50"})
    # The turn's call may have been started early (``early_call``), before the turn could
    # show anything: a wait of 2 s leaves the turn the time to take it while it waits.
    anthropic_api.error(429, headers={"retry-after": "2"})
    anthropic_api.reply("api is healthy")
    await anthropic_bot(monkeypatch, anthropic_api, start_bot)()
    thread = await mention(slack, "status of api")
    # Two waits and a bot on a busy machine: more than the default 10 s may pass.
    await until(
        lambda: any("api is healthy" in m["text"] for m in final_replies(slack, thread)),
        timeout=30,
    )

    def waiting() -> list[str]:
        return [s for s in status_sets(slack, thread) if s.startswith("is waiting for Anthropic")]

    overloaded = (
        "is waiting for Anthropic (529 overloaded_error); trying again in a moment (2 of 4)…"
    )
    limited = "is waiting for Anthropic (429 rate_limit_error); trying again in 2 s (3 of 4)…"
    # Status lines are set in the background, in order: the reply may be posted first.
    await until(lambda: limited in waiting(), timeout=30)
    # If both failures came before the turn took the early call, it is told of the last.
    assert waiting() in ([overloaded, limited], [limited])
    sets = status_sets(slack, thread)
    # The line said "thinking" first, and the retries came after it.
    assert sets.index("is thinking…") < sets.index(waiting()[0])


async def test_the_stop_button_cuts_a_wait_to_try_again_short(
    slack: LocalSlack,
    monkeypatch: pytest.MonkeyPatch,
    anthropic_api: FakeAnthropic,
    start_bot: Callable[..., Any],
) -> None:
    # Anthropic asks for 30 s: a stop then does not wait for them, and the line it left
    # goes with the stop's message.
    anthropic_api.error(529, headers={"retry-after": "30"})
    anthropic_api.reply("too late")
    bot = await anthropic_bot(monkeypatch, anthropic_api, start_bot)()
    thread = await mention(slack, "status of api")
    waiting = "is waiting for Anthropic (529 overloaded_error); trying again in 30 s (2 of 4)…"
    await until(lambda: shown(slack, thread) == waiting)
    await slack.stop_agent_session(user="U0ALICE", channel=OPS, thread_ts=thread)
    await bot_reply(slack, thread, "Stopped by <@U0ALICE>", timeout=10)
    await bot.engine.idle()
    await until(lambda: shown(slack, thread) is None)
    assert len(anthropic_api.requests) == 1  # not tried again
