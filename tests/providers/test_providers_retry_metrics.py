"""Every retry of a model call is counted for operators (``signoff_model_retries_total``
by provider and reason), once, whichever call it was: a turn's early call (started before
its records are written) or a call the turn made itself. Before, retries reached only the
live view and the logs: a provider that answered after three 529s looked healthy."""

from __future__ import annotations

import sys
from pathlib import Path

from fake_anthropic import FakeAnthropic, ToolUse
from fake_openai import FakeOpenAI
from prometheus_client.parser import text_string_to_metric_families
from providers_testkit import OPENAI_KEY, SleepRecorder, fast, retrying_claude

from agent_core.observe import ModelRetried, RecordingObserver
from agent_core.providers import OpenAIModel
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


async def test_a_servers_free_text_error_type_is_no_label_of_its_own(
    openai_api: FakeOpenAI, make_engine: EngineFactory, sleeps: SleepRecorder
) -> None:
    """A compatible server (a gateway, a local server) may say anything in its error's
    ``type``: a sentence with a count in it, an id. Each was a ``reason`` label value of
    its own, a new series per retry for as long as the server says it; the label keeps a
    type that is a word, the status alone otherwise. The trace keeps what it said."""
    for said in ("Queue full: 17 requests ahead of yours", "queued as req_8f3a9b2c", "4"):
        openai_api.error(503, type=said)
    openai_api.error(503, type="server_error")
    openai_api.reply("all good")
    observer = RecordingObserver()
    gpt = OpenAIModel("gpt-4o", api_key=OPENAI_KEY, base_url=openai_api.base_url, settings=fast(attempts=5), sleep=sleeps)  # fmt: skip
    engine = await make_engine(model=gpt, observer=observer)
    await engine.ingest(message("how is api?", ts="1700000000.000100"))
    await engine.idle()
    assert [reason for _, reason in _retries(observer)] == [  # as the thread is told
        "503 Queue full: 17 requests ahead of yours",
        "503 queued as req_8f3a9b2c",
        "503 4",
        "503 server_error",
    ]
    metrics = Metrics()
    for event in observer.events:
        metrics.emit(event)
    counted = {
        sample.labels["reason"]: sample.value
        for family in text_string_to_metric_families((await metrics.render()).decode())
        if family.name == "signoff_model_retries"
        for sample in family.samples
        if sample.name == "signoff_model_retries_total"
    }
    assert counted == {"503": 3.0, "503 server_error": 1.0}
