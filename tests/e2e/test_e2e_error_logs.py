"""Errors as an operator reads them in ``signoff run``'s JSON logs (issue 11: "Log the
events an operator needs: … Slack API error, model error …"): a provider's real error
through its official SDK, and Slack refusing a real call, each one line with its ids and
never a token or key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from ops_kit import API_KEY, FakeOpenAI, RunProcess
from signoff_e2e_kit import OPS, bot_reply, mention

from bot.config import Settings
from localslack import LocalSlack


@pytest.fixture
async def model() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as api:
        # A provider that quotes the key it refused, whole: it must reach no log line.
        api.error(401, f"Incorrect API key provided: {API_KEY}.")
        api.reply("All fine on api.")
        yield api


def only(lines: list[dict[str, Any]], event: str, **fields: str) -> dict[str, Any]:
    found = [
        line
        for line in lines
        if line["event"] == event and all(line.get(k) == v for k, v in fields.items())
    ]
    assert len(found) == 1, found
    return found[0]


async def test_a_model_error_and_a_slack_api_error_are_each_one_json_line_with_their_ids(
    slack: LocalSlack, settings: Settings, model: FakeOpenAI, tmp_path: Path
) -> None:
    run = RunProcess(
        slack,
        settings.home,
        tmp_path / "logs",
        http_port=0,  # an ephemeral port, never one taken meanwhile
        SIGNOFF_MODEL="openai-compatible:fake",
        OPENAI_BASE_URL=model.base_url,
        SIGNOFF_LOG_FORMAT="json",
    )
    try:
        await run.connected(slack)
        failed = await mention(slack, "status of api")
        await bot_reply(slack, failed, "rejected the API key")  # the thread is told
        # Slack refuses the next reply once (a transient error): it is posted on the retry.
        refusal = slack.inject_fault(method="chat.postMessage", error="fatal_error", channel=OPS)
        answered = await mention(slack, "and now?")
        await bot_reply(slack, answered, "All fine on api.")
        assert refusal.fired == 1
        run.terminate()
        assert await run.exit_code(timeout=20) == 0, run.stderr()
    finally:
        run.kill()

    lines = run.log_lines()  # every line is JSON
    for secret in run.secrets:  # the bot token, the app token, the model's key
        assert secret not in run.stderr()
    session = next(
        line["session_id"]
        for line in lines
        if line["event"] == "session_state" and line["thread_ts"] == failed
    )
    model_error = only(lines, "model_error")
    assert {"ts", "level"} <= set(model_error) and model_error["ts"].endswith("Z")
    assert model_error["level"] == "warning"
    assert model_error["error"] == "ProviderAuthError"
    assert model_error["provider"] == "openai-compatible"
    assert model_error["session_id"] == session
    assert (model_error.get("channel"), model_error.get("thread_ts")) == (OPS, failed)

    slack_error = only(lines, "slack_api_error", method="chat.postMessage")
    assert {"ts", "level"} <= set(slack_error) and slack_error["ts"].endswith("Z")
    assert slack_error["level"] == "warning"
    assert (slack_error["method"], slack_error["error"]) == ("chat.postMessage", "fatal_error")
    assert (slack_error["channel"], slack_error["thread_ts"]) == (OPS, answered)
    # Every Slack error here was about one of the two threads, whatever the method calls
    # the channel (agents.sessions.setStatus names it channel_id): each line says which.
    for line in lines:
        if line["event"] in ("slack_api_error", "slack_ratelimited"):
            assert (line.get("channel"), line.get("thread_ts")) in {(OPS, failed), (OPS, answered)}
