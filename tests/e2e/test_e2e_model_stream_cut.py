"""A model answer that breaks off midway on every try: the thread, the trace and
``signoff doctor`` say the provider answered and its answer broke off, not that signoff
cannot reach it.

The server was reached each time: it answered 200 and began the reply, then the
connection dropped (or the body ended before the API's last event); or it answered an
error status and the connection dropped in the middle of its body. That was told as
"Cannot reach Anthropic at http://…/v1/messages (connection dropped)", which sends whoever
reads it to the network and the base URL, both fine: what breaks answers off midway is a
proxy cutting responses, or the provider itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal

import pytest
from live_kit import (
    FakeAnthropic,
    Scripted,
    anthropic_api,
    anthropic_bot,
    final_replies,
    slack,
)
from signoff_e2e_kit import bot_messages, mention, session_dirs, until

from agent_core.providers import doctor
from bot.config import Settings
from localslack import LocalSlack

__all__ = ["anthropic_api", "slack"]

PARTIAL = "The api service answers in 80 ms and the web service"


def model_errors(settings: Settings) -> list[str]:
    """The ``error`` of every ``model_error`` event in the sessions' traces."""
    return [
        record["data"]["error"]
        for session in session_dirs(settings.home)
        for line in (session / "trace.jsonl").read_text().splitlines()
        if (record := json.loads(line))["kind"] == "model_error"
    ]


@pytest.mark.parametrize("cut", ["drop", "eof", "error-body"])
async def test_a_reply_that_breaks_off_midway_is_not_told_as_unreachable(
    slack: LocalSlack,
    monkeypatch: pytest.MonkeyPatch,
    anthropic_api: FakeAnthropic,
    start_bot: Callable[..., Any],
    settings: Settings,
    cut: Literal["drop", "eof", "error-body"],
) -> None:
    for _ in range(4):  # every attempt the bot makes
        if cut == "error-body":  # a 529 whose body the connection dropped in the middle of
            body = anthropic_api.error_body(529, "Overloaded")
            anthropic_api.enqueue(Scripted(status=529, body=body, body_cut=20))
        else:
            anthropic_api.reply(PARTIAL, break_after=6, break_with=cut)
    anthropic_api.reply("api and web are both healthy.")
    bot = await anthropic_bot(monkeypatch, anthropic_api, start_bot)()
    thread = await mention(slack, "how are api and web?")
    await until(lambda: final_replies(slack, thread), timeout=30)
    await bot.engine.idle()

    [told] = [m["text"] for m in bot_messages(slack, thread)]
    assert "Cannot reach" not in told, told
    assert "Anthropic answered, but its answer broke off midway" in told, told
    assert "after 4 attempts" in told and "mention me to try again" in told
    assert PARTIAL not in told  # the voided text is not shown as if it were an answer
    last = model_errors(settings)[-1]
    assert "broke off midway" in last and "Cannot reach" not in last, last
    if cut != "error-body":  # the 200's request id, for the provider's support
        assert "(request-id req_011CFake" in told and "(request-id req_011CFake" in last, told

    # Nothing was lost: asked again, the message is answered.
    await mention(slack, "try again please", thread_ts=thread)
    await until(lambda: len(final_replies(slack, thread)) == 2, timeout=15)
    assert bot_messages(slack, thread)[-1]["text"] == "api and web are both healthy."


async def test_doctor_says_the_reply_broke_off_not_that_the_server_is_unreachable(
    anthropic_api: FakeAnthropic,
) -> None:
    for _ in range(4):
        anthropic_api.reply("ok, and then", break_after=4, break_with="drop")
    env = {"ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": anthropic_api.base_url}
    report = await doctor("anthropic:claude-test", env=env)
    assert not report.ok
    assert report.problem == "reply_cut", report
    assert "base URL" not in report.message and "broke off midway" in report.message, report
