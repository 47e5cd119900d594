"""Messages API streams as gateways send them when they translate another model's reply
into Anthropic's wire format (new-api, one-api in front of DeepSeek and the like), through
the real SDK: fields the API always fills may come as ``null``."""

from __future__ import annotations

import json
from typing import Any

from engine_support import RecordingSink
from fake_anthropic import FakeAnthropic
from fake_provider_http import Scripted
from provider_samples import SYSTEM
from providers_testkit import ANTHROPIC_KEY, SleepRecorder, fast

from agent_core.messages import UserMessage
from agent_core.providers import AnthropicModel

ASK = [UserMessage(text="status of api?", user="U0ALICE", ts="1700000000.000100")]


def sse(*events: dict[str, Any]) -> Scripted:
    body = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)
    return Scripted(text=body, content_type="text/event-stream")


async def test_null_content_and_null_text_from_a_gateway_are_empty(
    anthropic_api: FakeAnthropic, sleeps: SleepRecorder
) -> None:
    """``"content": null`` in message_start and ``"text": null`` in a text block's start
    (NousResearch/hermes-agent#53627): the reply was refused as garbled (the text block
    as "tool input that is not JSON"), asked for again and again, and every turn through
    such a gateway failed as "a reply signoff cannot read"."""
    message = {"id": "msg_g", "type": "message", "role": "assistant", "model": "deepseek-v4",
               "content": None, "stop_reason": None, "stop_sequence": None,
               "usage": {"input_tokens": 12, "output_tokens": 1}}  # fmt: skip
    anthropic_api.enqueue(
        sse(
            {"type": "message_start", "message": message},
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": None}},
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "api is up"}},
            {"type": "content_block_stop", "index": 0},
            {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": 4}},
            {"type": "message_stop"},
        )
    )  # fmt: skip
    model = AnthropicModel("deepseek-v4", api_key=ANTHROPIC_KEY, base_url=anthropic_api.base_url, settings=fast(), sleep=sleeps)  # fmt: skip
    try:
        reply = await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())
    finally:
        await model.aclose()
    assert (reply.text, reply.usage.output_tokens) == ("api is up", 4)
    assert len(anthropic_api.requests) == 1 and sleeps.calls == []
