"""Anthropic's ``model_context_window_exceeded`` and ``pause_turn``, through the real SDK
and a real engine turn. Both were taken for ``max_tokens``: the person was told the model
"ran out of output tokens" (raising the output limit does nothing for either) and the
model to send its call again "in a shorter reply"."""

from __future__ import annotations

import json

import pytest
from engine_support import EngineFactory, message, replies, transcript
from fake_anthropic import FakeAnthropic, ToolUse
from providers_testkit import ANTHROPIC_KEY, fast

from agent_core.messages import AssistantMessage, ToolResultMessage
from agent_core.providers import AnthropicModel
from agent_core.surface import RecordingSurface
from sessions import Home

WINDOW = "model_context_window_exceeded"


def claude(api: FakeAnthropic) -> AnthropicModel:
    return AnthropicModel(
        "claude-sonnet-4-6", api_key=ANTHROPIC_KEY, base_url=api.base_url, settings=fast()
    )


async def _turn(api: FakeAnthropic, make_engine: EngineFactory) -> None:
    engine = await make_engine(model=claude(api))
    await engine.ingest(message("status of api?", ts="1700000000.000100"))
    await engine.idle()


@pytest.mark.parametrize(
    ("stop", "recorded", "words"),
    [
        (WINDOW, "context_window", ("too long for the model", "new thread")),
        ("pause_turn", "pause_turn", ("paused", "Mention me")),
    ],
)
@pytest.mark.parametrize("text", ["", "api is"])
async def test_each_incomplete_reply_is_told_as_what_it_is(
    anthropic_api: FakeAnthropic,
    make_engine: EngineFactory,
    home: Home,
    surface: RecordingSurface,
    stop: str,
    recorded: str,
    words: tuple[str, ...],
    text: str,
) -> None:
    anthropic_api.reply(*([text] if text else []), stop_reason=stop)
    await _turn(anthropic_api, make_engine)
    told = replies(surface)[-1]
    assert "output tokens" not in told and all(w in told for w in words)
    assert ("may be incomplete" in told) is bool(text)
    [said] = [m for m in transcript(home) if isinstance(m, AssistantMessage)]
    assert said.stop_reason == recorded
    # A paused turn is not sent back: signoff asks for no server tools (docs/providers.md).
    assert len(anthropic_api.requests) == 1


async def test_a_call_cut_by_the_context_window_is_not_asked_for_in_a_shorter_reply(
    anthropic_api: FakeAnthropic, make_engine: EngineFactory, home: Home
) -> None:
    call = ToolUse("service_status", {"service": "api"})
    anthropic_api.reply(call, stop_reason=WINDOW).reply("The thread is too long.")
    await _turn(anthropic_api, make_engine)
    [result] = [m for m in transcript(home) if isinstance(m, ToolResultMessage)]
    assert result.status == "error" and "context window" in result.content
    assert "shorter reply" not in json.dumps(anthropic_api.requests[-1].body)
