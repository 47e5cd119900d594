"""A gateway that sends an Anthropic ``tool_use`` block with ``"id": null`` or
``"name": null`` (the SDK lets both through), through the real SDK and a real engine
turn: the call gets a generated id, as OpenAI's id-less calls do, never the literal
"None" (which every id-less call would share); and a call with no name becomes an error
result the model reads, never a call to a tool named "None"."""

from __future__ import annotations

import json

from engine_support import EngineFactory, message, replies, transcript
from fake_anthropic import FakeAnthropic, ToolUse
from fake_provider_http import Scripted
from providers_testkit import ANTHROPIC_KEY, fast

from agent_core.messages import AssistantMessage, ToolResultMessage
from agent_core.providers import AnthropicModel
from agent_core.surface import RecordingSurface
from sessions import Home


def _model(api: FakeAnthropic) -> AnthropicModel:
    return AnthropicModel(
        "claude-sonnet-4-6", api_key=ANTHROPIC_KEY, base_url=api.base_url, settings=fast()
    )


def _with_nulls(api: FakeAnthropic, *calls: ToolUse, null: str) -> Scripted:
    body = api.message(*calls)
    for block in body["content"]:
        block[null] = None
    return Scripted(body=body)


async def test_a_call_without_an_id_gets_a_generated_one(
    anthropic_api: FakeAnthropic, make_engine: EngineFactory, home: Home
) -> None:
    calls = (ToolUse("service_status", {"service": "api"}), ToolUse("service_status", {}))
    anthropic_api.enqueue(_with_nulls(anthropic_api, *calls, null="id")).reply("All fine.")
    engine = await make_engine(model=_model(anthropic_api))
    await engine.ingest(message("how is api?", ts="1700000000.000100"))
    await engine.idle()

    [asked] = [m for m in transcript(home) if isinstance(m, AssistantMessage) and m.tool_calls]
    ids = [c.id for c in asked.tool_calls]
    assert "None" not in ids and all(i.startswith("call_") for i in ids)
    assert len(set(ids)) == 2  # two id-less calls stay two calls
    results = [m for m in transcript(home) if isinstance(m, ToolResultMessage)]
    assert sorted(r.call_id for r in results) == sorted(ids)
    sent = anthropic_api.requests[-1].body["messages"]
    uses = [b["id"] for m in sent for b in m["content"] if b["type"] == "tool_use"]
    assert uses == ids  # and the provider is sent them back as recorded


async def test_a_call_without_a_name_is_an_error_for_the_model(
    anthropic_api: FakeAnthropic,
    make_engine: EngineFactory,
    home: Home,
    surface: RecordingSurface,
) -> None:
    call = ToolUse("service_status", {"service": "api"})
    anthropic_api.enqueue(_with_nulls(anthropic_api, call, null="name")).reply("Sorry.")
    engine = await make_engine(model=_model(anthropic_api))
    await engine.ingest(message("how is api?", ts="1700000000.000100"))
    await engine.idle()

    [asked] = [m for m in transcript(home) if isinstance(m, AssistantMessage) and m.tool_calls]
    [recorded] = asked.tool_calls
    assert recorded.name != "None" and recorded.parse_error is not None
    [result] = [m for m in transcript(home) if isinstance(m, ToolResultMessage)]
    assert result.status == "error" and "None" not in result.content
    assert "a tool call without a name; available: " in result.content  # what it may call
    assert "unknown tool ''" not in result.content
    assert "None" not in json.dumps(anthropic_api.requests[-1].body)
    assert surface.cards == [] and replies(surface) == ["Sorry."]
