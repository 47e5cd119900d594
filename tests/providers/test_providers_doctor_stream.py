"""doctor() asks the way the bot asks: streamed, with tools and (Chat Completions)
``stream_options``, with the bot's output limit. It pinged without any of them, so a
server that refuses one passed the check and then failed every mention."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fake_anthropic import FakeAnthropic
from fake_openai import FakeOpenAI
from fake_provider_http import Scripted
from providers_testkit import ANTHROPIC_KEY

from agent_core.providers import doctor

LOCAL = "openai-compatible:llama3"


class PickyServer(FakeOpenAI):
    """A Chat Completions server that refuses one request field, as older Azure OpenAI
    API versions refuse ``stream_options``, a gateway ``stream``, Ollama a model's
    ``tools``: a 400 naming it."""

    def __init__(self, refused: str) -> None:
        super().__init__()
        self.refused = refused

    def validate(self, body: Any) -> str | None:
        if isinstance(body, dict) and self.refused in body:
            return f"Unrecognized request argument supplied: {self.refused}"
        return super().validate(body)


@pytest.mark.parametrize("refused", ["stream_options", "stream", "tools"])
async def test_a_server_that_refuses_what_the_bot_sends_fails_the_check(refused: str) -> None:
    async with PickyServer(refused) as api:
        api.default_text = "ok"
        report = await doctor(LOCAL, env={"OPENAI_BASE_URL": api.base_url})
    assert (report.ok, report.problem) == (False, "bad_request")
    assert f"supplied: {refused}" in report.message
    assert "every mention" in report.message  # why it matters, though a ping would pass


async def test_a_server_that_does_not_stream_fails_the_check(openai_api: FakeOpenAI) -> None:
    whole = openai_api.completion("ok", model="llama3")  # whole, for a streamed request
    openai_api.enqueue(Scripted(text=json.dumps(whole)))
    report = await doctor(LOCAL, env={"OPENAI_BASE_URL": openai_api.base_url})
    assert (report.ok, report.problem) == (False, "bad_response")
    assert "stream" in report.message


async def test_the_check_is_the_bots_request(
    anthropic_api: FakeAnthropic, openai_api: FakeOpenAI
) -> None:
    anthropic_api.reply("ok")
    openai_api.reply("ok")
    env = {"ANTHROPIC_API_KEY": ANTHROPIC_KEY, "ANTHROPIC_BASE_URL": anthropic_api.base_url}
    claude = await doctor("anthropic:claude-sonnet-4-6", env=env, max_tokens=20_000)
    local = await doctor(LOCAL, env={"OPENAI_BASE_URL": openai_api.base_url})
    assert claude.ok and local.ok and "streamed" in claude.message
    [sent] = anthropic_api.requests
    assert sent.body["stream"] is True and sent.body["tools"] and sent.body["system"]
    assert sent.body["max_tokens"] == 20_000  # SIGNOFF_MAX_OUTPUT_TOKENS, as the bot sends it
    [asked] = openai_api.requests
    assert asked.body["stream_options"] == {"include_usage": True} and asked.body["tools"]
    assert asked.body["max_tokens"] == 4_096


async def test_an_output_limit_the_model_refuses_is_named(openai_api: FakeOpenAI) -> None:
    openai_api.error(400, "max_tokens is too large: 32000. This model supports at most 16384.")
    report = await doctor(
        "openai:gpt-4o", env={"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": openai_api.base_url},
        max_tokens=32_000,
    )  # fmt: skip
    assert (report.ok, report.problem) == (False, "output_limit")
    assert "SIGNOFF_MAX_OUTPUT_TOKENS" in report.message and "32000" in report.message
