"""A Chat Completions stream that ends without its usage chunk (a compatible server that
ignores ``stream_options.include_usage``, a proxy that drops the last event) is counted as
a call whose usage is unknown, never as a call of 0 tokens that cost money.

Before, the metrics counted 0 tokens for it and, in ``signoff_model_cost_usd_total``, the
cost of the budgets' estimate (about 4 characters a token): spend from no tokens, and no
sign that anything was missing. Now ``signoff_model_usage_missing_total{provider}`` counts
it, the token and cost counters hold only what providers reported, and the trace's
``model_turn`` keeps the estimate beside the usage, labelled as one.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fake_openai import FakeOpenAI
from providers_testkit import OPENAI_KEY, fast

from agent_core.messages import Usage
from agent_core.observe import ModelCall, RecordingObserver
from agent_core.providers import OpenAIModel, cost_usd
from bot.metrics import Metrics
from bot.trace_view import render_history
from sessions import Home, SessionFiles

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from engine_support import EngineFactory, chain, message


async def test_a_stream_without_its_usage_chunk_counts_usage_as_unknown_not_free_tokens(
    openai_api: FakeOpenAI, make_engine: EngineFactory, home: Home
) -> None:
    openai_api.reply("api is healthy", usage=False)
    observer = RecordingObserver()
    model = OpenAIModel("gpt-4o", api_key=OPENAI_KEY, base_url=openai_api.base_url, settings=fast())
    engine = await make_engine(model=model, observer=observer, cost=cost_usd)
    await engine.ingest(message("how is api? " + "x" * 400, ts="1700000000.000100"))
    await engine.idle()
    assert openai_api.requests[0].body["stream_options"] == {"include_usage": True}

    [call] = [e for e in observer.events if isinstance(e, ModelCall)]
    assert (call.outcome, call.usage_reported) == ("ok", False)
    assert (call.input_tokens, call.output_tokens, call.usd) == (0, 0, 0.0)  # no cost from nothing
    metrics = Metrics()
    for event in observer.events:
        metrics.emit(event)
    shown = (await metrics.render()).decode()
    assert 'signoff_model_usage_missing_total{provider="openai"} 1.0' in shown
    assert 'signoff_model_calls_total{outcome="ok",provider="openai"} 1.0' in shown
    assert "signoff_model_tokens_total{" not in shown
    assert "signoff_model_cost_usd_total 0.0" in shown

    [session] = chain(home)
    events = SessionFiles(home.session_dir(session.id)).read_trace()
    [turn] = [e.detail for e in events if e.kind == "model_turn"]
    estimate = turn["usage_estimate"]
    assert turn["usage_estimated"] is True and estimate["input_tokens"] > 100
    # The session's cost is that of the estimate the trace shows, not of nothing.
    assert turn["session_usd"] == round(cost_usd("openai:gpt-4o", Usage(**estimate)) or 0, 6)
    assert turn["session_usd"] > 0
    text = render_history(await engine.history(session.id))
    assert "usage not reported, about " in text and "estimated: usage not reported" in text, text


async def test_a_chat_completion_whose_usage_counts_no_token_is_estimated_not_free(
    openai_api: FakeOpenAI, make_engine: EngineFactory, home: Home
) -> None:
    """A compatible server (or a proxy) that sends the usage chunk with every count 0: the
    API counts at least the prompt, so no token at all is a usage not reported, as for a
    Messages API gateway. Counted as 0 tokens, the session's token budget never ran out."""
    openai_api.reply("api is healthy", prompt_tokens=0, completion_tokens=0)
    observer = RecordingObserver()
    model = OpenAIModel("gpt-4o", api_key=OPENAI_KEY, base_url=openai_api.base_url, settings=fast())
    engine = await make_engine(model=model, observer=observer, cost=cost_usd)
    await engine.ingest(message("how is api? " + "x" * 400, ts="1700000000.000100"))
    await engine.idle()

    [call] = [e for e in observer.events if isinstance(e, ModelCall)]
    assert (call.outcome, call.usage_reported) == ("ok", False)
    [session] = chain(home)
    events = SessionFiles(home.session_dir(session.id)).read_trace()
    [turn] = [e.detail for e in events if e.kind == "model_turn"]
    assert turn["usage_estimated"] is True and turn["usage_estimate"]["input_tokens"] > 100
    assert turn["session_tokens"] > 100
