"""A 200 whose JSON body is cut short or broken (a proxy that ended the body early),
through the real SDKs, without streaming: ``complete`` raises only ``ProviderError``."""

from __future__ import annotations

import pytest
from fake_anthropic import FakeAnthropic
from fake_openai import FakeOpenAI
from providers_testkit import ANTHROPIC_KEY, OPENAI_KEY, SleepRecorder, fast

from agent_core.messages import UserMessage
from agent_core.providers import AnthropicModel, OpenAIModel, ProviderResponseError

ASK = [UserMessage(text="status of api?")]
CUT = {
    "anthropic": '{"id": "msg_01", "type": "message", "role": "assistant", "content": [{"type": "te',
    "openai": '{"id": "chatcmpl-1", "object": "chat.completion", "choices": [{"index": 0, "mess',
}


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
async def test_a_success_whose_json_is_cut_short_is_retried_then_told_as_unreadable(
    anthropic_api: FakeAnthropic, openai_api: FakeOpenAI, sleeps: SleepRecorder, provider: str
) -> None:
    """The SDK's JSONDecodeError went out of ``complete`` as it was: not retried, and told
    as "Unterminated string starting at: line 1 column 78 (char 77)"."""
    api: FakeAnthropic | FakeOpenAI = anthropic_api if provider == "anthropic" else openai_api
    model: AnthropicModel | OpenAIModel
    if provider == "anthropic":
        model = AnthropicModel("claude-sonnet-4-6", api_key=ANTHROPIC_KEY, base_url=api.base_url, settings=fast(attempts=2), sleep=sleeps)  # fmt: skip
    else:
        model = OpenAIModel("gpt-4o", api_key=OPENAI_KEY, base_url=api.base_url, settings=fast(attempts=2), sleep=sleeps)  # fmt: skip
    api.raw(200, CUT[provider], content_type="application/json").reply("api is up")
    api.raw(200, CUT[provider], content_type="application/json")
    api.raw(200, CUT[provider], content_type="application/json")
    try:
        reply = await model.complete(system="", messages=ASK, tools=[])
        with pytest.raises(ProviderResponseError) as caught:
            await model.complete(system="", messages=ASK, tools=[])
    finally:
        await model.aclose()
    assert reply.text == "api is up"
    assert "cannot read" in str(caught.value) and "2 attempts" in str(caught.value)
    assert len(sleeps.calls) == 2
