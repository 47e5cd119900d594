"""A streaming call's sink hears of each retry (what failed, which attempt, the wait),
so the live view can say why nothing comes; a sink that only takes text hears nothing,
and a listener that fails never fails the call."""

from __future__ import annotations

import random

from engine_support import RecordingSink
from fake_anthropic import FakeAnthropic
from fake_openai import FakeOpenAI
from providers_testkit import ANTHROPIC_KEY, OPENAI_KEY, SleepRecorder, fast

from agent_core.early_call import HeldSink
from agent_core.messages import UserMessage
from agent_core.model import RetryNotice
from agent_core.providers import AnthropicModel, OpenAIModel

ASK = [UserMessage(text="status?", user="U0ALICE", ts="1700000000.000100")]


class Listening(RecordingSink):
    def __init__(self, *, fail: bool = False) -> None:
        super().__init__()
        self.notices: list[RetryNotice] = []
        self.fail = fail

    async def retrying(self, notice: RetryNotice) -> None:
        self.notices.append(notice)
        if self.fail:
            raise RuntimeError("the live view is down")


async def test_anthropic_retries_are_told_to_the_sink(
    anthropic_api: FakeAnthropic, sleeps: SleepRecorder
) -> None:
    anthropic_api.error(529)
    anthropic_api.error(500)
    anthropic_api.reply("recovered")
    model = AnthropicModel(
        "claude-sonnet-4-6",
        api_key=ANTHROPIC_KEY,
        base_url=anthropic_api.base_url,
        settings=fast(attempts=4),
        sleep=sleeps,
        rng=random.Random(7),
    )
    sink = Listening()
    try:
        reply = await model.stream(system="", messages=ASK, tools=[], sink=sink)
    finally:
        await model.aclose()
    assert reply.text == "recovered"
    assert [(n.provider, n.reason, n.attempt, n.attempts) for n in sink.notices] == [
        ("Anthropic", "529 overloaded_error", 1, 4),
        ("Anthropic", "500 api_error", 2, 4),
    ]
    assert [n.delay_s for n in sink.notices] == sleeps.calls  # the waits it then took


async def test_a_failing_listener_does_not_fail_the_call(
    openai_api: FakeOpenAI, sleeps: SleepRecorder
) -> None:
    openai_api.error(503)
    openai_api.reply("recovered")
    model = OpenAIModel(
        "gpt-4o", api_key=OPENAI_KEY, base_url=openai_api.base_url, settings=fast(), sleep=sleeps
    )
    sink = Listening(fail=True)
    try:
        reply = await model.stream(system="", messages=ASK, tools=[], sink=sink)
    finally:
        await model.aclose()
    assert reply.text == "recovered"
    assert [(n.provider, n.attempt) for n in sink.notices] == [("OpenAI", 1)]
    assert len(sleeps.calls) == 1


async def test_a_call_started_early_tells_its_last_retry_when_it_is_taken() -> None:
    held = HeldSink()
    first = RetryNotice(provider="Anthropic", reason="529", attempt=1, attempts=4, delay_s=1)
    await held.retrying(first)
    later = first.model_copy(update={"attempt": 2})
    await held.retrying(later)
    taker = Listening()
    await held.attach(taker)
    assert taker.notices == [later]  # only what is still true
    await held.retrying(first)
    assert taker.notices == [later, first]  # after attach, each as it comes

    # Text after a retry means the retry answered: nothing stale is told.
    held = HeldSink()
    await held.retrying(first)
    await held.text("hello")
    taker = Listening()
    await held.attach(taker)
    assert (taker.notices, taker.events) == ([], ["hello"])
