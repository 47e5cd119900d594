"""Every retry of a model call is counted for operators (``signoff_model_retries_total``
by provider and reason), once, whichever call it was: a turn's early call (started before
its records are written) or a call the turn made itself. Before, retries reached only the
live view and the logs: a provider that answered after three 529s looked healthy."""

from __future__ import annotations

import sys
from pathlib import Path

from fake_anthropic import FakeAnthropic, ToolUse
from providers_testkit import SleepRecorder, retrying_claude

from agent_core.observe import ModelRetried, RecordingObserver
from bot.metrics import Metrics

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from engine_support import EngineFactory, message


def _retries(observer: RecordingObserver) -> list[tuple[str, str]]:
    return [(e.provider, e.reason) for e in observer.events if isinstance(e, ModelRetried)]


async def test_retries_of_a_turn_s_model_calls_are_counted_once_each(
    anthropic_api: FakeAnthropic, make_engine: EngineFactory, sleeps: SleepRecorder
) -> None:
    anthropic_api.error(529)
    anthropic_api.error(529)
    anthropic_api.reply("all good")
    observer = RecordingObserver()
    engine = await make_engine(
        model=retrying_claude(anthropic_api.base_url, sleeps), observer=observer
    )
    await engine.ingest(message("how is api?", ts="1700000000.000100"))
    await engine.idle()
    assert _retries(observer) == [("anthropic", "529 overloaded_error")] * 2
    metrics = Metrics()
    for event in observer.events:
        metrics.emit(event)
    shown = (await metrics.render()).decode()
    assert (
        'signoff_model_retries_total{provider="anthropic",reason="529 overloaded_error"} 2.0'
        in shown
    )


async def test_retries_of_a_call_the_turn_makes_itself_are_counted(
    anthropic_api: FakeAnthropic, make_engine: EngineFactory, sleeps: SleepRecorder
) -> None:
    # The early call answers with an ungated call; the turn asks again with its result.
    anthropic_api.reply("Checking.", ToolUse("service_status", {"service": "api"}))
    anthropic_api.error(500)
    anthropic_api.reply("api is healthy")
    observer = RecordingObserver()
    engine = await make_engine(
        model=retrying_claude(anthropic_api.base_url, sleeps), observer=observer
    )
    await engine.ingest(message("how is api?", ts="1700000000.000100"))
    await engine.idle()
    assert len(anthropic_api.requests) == 3
    assert _retries(observer) == [("anthropic", "500 api_error")]
