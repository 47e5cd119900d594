"""A legacy ``function_call`` streamed is the call it is, as it is without streaming.

A Chat Completions server that answers in the legacy form (``function_call``, one call
with no id, ``finish_reason: "function_call"``) had it read as a call without streaming
(``from_openai``), but streamed, which is how the bot asks, its ``delta.function_call``
pieces were read by no one: the reply came back as ``tool_use`` with no call and no
text, the thread was told the model gave an empty answer, and the call was lost from
the transcript. Streamed and whole replies are to be the same.
"""

from __future__ import annotations

import json

from engine_support import RecordingSink
from fake_openai import Call, FakeOpenAI
from fake_provider_http import Scripted
from provider_samples import SYSTEM
from providers_testkit import OPENAI_KEY, SleepRecorder, fast

from agent_core.messages import UserMessage
from agent_core.providers import OpenAICompatibleModel

ASK = [UserMessage(text="how is api?", user="U0ALICE", ts="1700000000.000100")]
ARGS = '{"service": "api"}'


async def test_a_streamed_legacy_function_call_is_the_call_as_without_streaming(
    openai_api: FakeOpenAI, sleeps: SleepRecorder
) -> None:
    model = OpenAICompatibleModel("old-llm", api_key=OPENAI_KEY, base_url=openai_api.base_url, settings=fast(), sleep=sleeps)  # fmt: skip
    openai_api.reply(function_call=Call("service_status", ARGS), model="old-llm")
    whole = await model.complete(system=SYSTEM, messages=ASK, tools=[])
    openai_api.reply(function_call=Call("service_status", ARGS), model="old-llm")
    streamed = await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())
    assert [(c.id, c.name, c.arguments) for c in streamed.tool_calls] == [
        ("", "service_status", ARGS)
    ]
    assert (streamed.tool_calls, streamed.stop_reason) == (whole.tool_calls, whole.stop_reason)


async def test_a_legacy_call_streaming_slowly_is_progress_not_a_stall(
    openai_api: FakeOpenAI, sleeps: SleepRecorder
) -> None:
    """Its pieces are news: a stream of nothing else was a stall to the guard, and timed
    out however steadily they came."""
    settings = fast(attempts=1, timeout_s=1.0)
    model = OpenAICompatibleModel("old-llm", api_key=OPENAI_KEY, base_url=openai_api.base_url, settings=settings, sleep=sleeps)  # fmt: skip
    # role .3 s (no news), the call's name .6 s, its arguments .9 s and 1.2 s, its end 1.5 s
    openai_api.reply(function_call=Call("service_status", ARGS), chunk_delay=0.3)
    reply = await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())
    assert [c.name for c in reply.tool_calls] == ["service_status"]


PLACEHOLDER = {"name": "", "arguments": ""}


def _text_with_placeholders(*pieces: str) -> Scripted:
    """A text answer as some compatible gateways stream it (Volcano Engine's Ark,
    Hunyuan, gateways in front of DeepSeek): every delta carries an empty legacy
    ``function_call`` (and ``tool_calls: []``), their zero values, beside its words."""

    def chunk(delta: dict[str, object], reason: str | None) -> str:
        body = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "ep-1",
                "choices": [{"index": 0, "finish_reason": reason, "delta": {
                    "role": "assistant", "content": "", "function_call": PLACEHOLDER,
                    "refusal": "", "tool_calls": [], **delta}}]}  # fmt: skip
        return f"data: {json.dumps(body)}\n\n"

    words = "".join(chunk({"content": piece}, None) for piece in pieces)
    body = words + chunk({}, "stop") + "data: [DONE]\n\n"
    return Scripted(text=body, content_type="text/event-stream")


async def test_an_empty_legacy_function_call_beside_a_text_answer_is_no_call(
    openai_api: FakeOpenAI, sleeps: SleepRecorder
) -> None:
    """The zero-value placeholder was kept as a call with no name: a plain answer came
    back with a nameless call to run, streamed or not."""
    model = OpenAICompatibleModel("ep-1", api_key=OPENAI_KEY, base_url=openai_api.base_url, settings=fast(), sleep=sleeps)  # fmt: skip
    openai_api.enqueue(_text_with_placeholders("api", " is", " up"))
    streamed = await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=RecordingSink())
    whole_body = {"id": "c2", "object": "chat.completion", "created": 1, "model": "ep-1",
                  "choices": [{"index": 0, "finish_reason": "stop", "message": {
                      "role": "assistant", "content": "api is up", "function_call": PLACEHOLDER,
                      "tool_calls": []}}],
                  "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}}  # fmt: skip
    openai_api.enqueue(Scripted(text=json.dumps(whole_body)))
    whole = await model.complete(system=SYSTEM, messages=ASK, tools=[])
    assert (whole.text, whole.tool_calls, whole.stop_reason) == ("api is up", (), "end_turn")
    assert (streamed.text, streamed.tool_calls, streamed.stop_reason) == (
        "api is up",
        (),
        "end_turn",
    )
