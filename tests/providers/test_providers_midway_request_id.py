"""A streamed reply that fails after its 200 still names the provider's request id.

The id is in the response's headers (OpenAI's ``x-request-id``, Anthropic's
``request-id``), which came with the 200 before the stream failed: an error sent midway
(OpenAI's ``{"error": …}`` chunk, which the SDK raises with no response), a dropped
connection, or a body that ended before the API's last event. Errors sent up front named
it, these did not, and an operator asking the provider's support about one needs it.
"""

from __future__ import annotations

from typing import Literal

import pytest
from engine_support import RecordingSink
from fake_anthropic import FakeAnthropic
from fake_openai import FakeOpenAI
from provider_samples import SYSTEM
from providers_testkit import ANTHROPIC_KEY, OPENAI_KEY, SleepRecorder, fast

from agent_core.messages import UserMessage
from agent_core.providers import (
    AnthropicModel,
    OpenAIModel,
    ProviderError,
    ProviderReplyCutError,
    ProviderServerError,
)

ASK = [UserMessage(text="how is api?", user="U0ALICE", ts="1700000000.000100")]
PARTIAL = "The api service answers in 80 ms and the web service is"
Break = Literal["error", "drop", "eof"]


def gpt(api: FakeOpenAI, sleeps: SleepRecorder) -> OpenAIModel:
    settings = fast(attempts=1, timeout_s=2.0)
    return OpenAIModel("gpt-4o", api_key=OPENAI_KEY, base_url=api.base_url, settings=settings, sleep=sleeps)  # fmt: skip


def claude(api: FakeAnthropic, sleeps: SleepRecorder) -> AnthropicModel:
    settings = fast(attempts=1, timeout_s=2.0)
    return AnthropicModel("claude-sonnet-4-6", api_key=ANTHROPIC_KEY, base_url=api.base_url, settings=settings, sleep=sleeps)  # fmt: skip


async def failed(model: AnthropicModel | OpenAIModel) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())
    return caught.value


@pytest.mark.parametrize(
    ("cut", "raised"),
    [
        ("error", ProviderServerError),
        ("drop", ProviderReplyCutError),
        ("eof", ProviderReplyCutError),
    ],
)
async def test_openai_stream_failing_after_its_200_names_the_request_id(
    openai_api: FakeOpenAI, sleeps: SleepRecorder, cut: Break, raised: type[ProviderError]
) -> None:
    openai_api.reply(
        PARTIAL, break_after=4, break_with=cut, headers={"x-request-id": "req_midway42"}
    )
    error = await failed(gpt(openai_api, sleeps))
    assert type(error) is raised, repr(error)
    assert error.request_id == "req_midway42"
    assert str(error).endswith("(request-id req_midway42)"), str(error)


@pytest.mark.parametrize(
    ("cut", "raised"),
    [("error", ProviderError), ("drop", ProviderReplyCutError), ("eof", ProviderReplyCutError)],
)
async def test_anthropic_stream_failing_after_its_200_names_the_request_id(
    anthropic_api: FakeAnthropic, sleeps: SleepRecorder, cut: Break, raised: type[ProviderError]
) -> None:
    anthropic_api.reply(
        PARTIAL, break_after=6, break_with=cut, headers={"request-id": "req_011CMidway"}
    )
    error = await failed(claude(anthropic_api, sleeps))
    assert isinstance(error, raised), repr(error)
    assert error.request_id == "req_011CMidway"
    assert str(error).endswith("(request-id req_011CMidway)"), str(error)


async def test_a_key_echoed_as_a_midway_request_id_never_leaks(
    openai_api: FakeOpenAI, sleeps: SleepRecorder
) -> None:
    openai_api.reply(PARTIAL, break_after=4, break_with="drop", headers={"x-request-id": f"req-{OPENAI_KEY}"})  # fmt: skip
    error = await failed(gpt(openai_api, sleeps))
    assert OPENAI_KEY not in str(error) and OPENAI_KEY not in str(error.request_id)
    assert error.request_id == "req-[redacted]"
