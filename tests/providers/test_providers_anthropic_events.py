"""A streamed Anthropic reply put back together from the API's own events, through the real
SDK: tool input in many ``input_json_delta`` pieces (or none at all), blocks and events
signoff does not use, usage from ``message_start`` and ``message_delta``, and ``error``
events of every kind midway. Each stream is written out event by event, as the API sends
it, so these pin what the adapter makes of the events, whatever reads them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from engine_support import RecordingSink
from fake_anthropic import FakeAnthropic
from fake_provider_http import Scripted
from provider_samples import SYSTEM
from providers_testkit import ANTHROPIC_KEY, SleepRecorder, fast

from agent_core.messages import UserMessage
from agent_core.model import ModelReply, RawToolCall
from agent_core.providers import (
    AnthropicModel,
    ProviderAuthError,
    ProviderError,
    ProviderRequestError,
)

ASK = [UserMessage(text="restart api please", user="U0ALICE", ts="1700000000.000100")]
Event = tuple[str, dict[str, Any]]
STOP: Event = ("message_stop", {"type": "message_stop"})


def start(**usage: int) -> Event:
    message: dict[str, Any] = {"id": "msg_01S", "type": "message", "role": "assistant", "model": "claude-sonnet-4-6",
               "content": [], "stop_reason": None, "stop_sequence": None,
               "usage": usage or {"input_tokens": 25, "output_tokens": 1}}  # fmt: skip
    return "message_start", {"type": "message_start", "message": message}


def opens(index: int, block: dict[str, Any]) -> Event:
    return "content_block_start", {"type": "content_block_start", "index": index, "content_block": block}  # fmt: skip


def delta(index: int, piece: dict[str, Any]) -> Event:
    return "content_block_delta", {"type": "content_block_delta", "index": index, "delta": piece}


def text(index: int, words: str) -> Event:
    return delta(index, {"type": "text_delta", "text": words})


def json_piece(index: int, part: str) -> Event:
    return delta(index, {"type": "input_json_delta", "partial_json": part})


def closes(index: int) -> Event:
    return "content_block_stop", {"type": "content_block_stop", "index": index}


def ends(stop_reason: str = "end_turn", usage: dict[str, int | None] | None = None) -> Event:
    body = {"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": usage or {"output_tokens": 9}}  # fmt: skip
    return "message_delta", body


def tool(index: int, call_id: str, name: str) -> Event:
    return opens(index, {"type": "tool_use", "id": call_id, "name": name, "input": {}})


TEXT_BLOCK = {"type": "text", "text": ""}


def sse(events: list[Event]) -> Scripted:
    body = "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events)
    return Scripted(text=body, content_type="text/event-stream")


async def streamed(
    api: FakeAnthropic, sleeps: SleepRecorder, sink: RecordingSink, attempts: int = 1
) -> ModelReply:
    model = AnthropicModel(
        "claude-sonnet-4-6",
        api_key=ANTHROPIC_KEY,
        base_url=api.base_url,
        settings=fast(attempts=attempts),
        sleep=sleeps,
    )
    try:
        return await model.stream(system=SYSTEM, messages=ASK, tools=[], sink=sink)
    finally:
        await model.aclose()


async def test_tool_input_in_many_pieces_is_the_whole_object_and_calls_keep_their_order(
    anthropic_api: FakeAnthropic, sleeps: SleepRecorder
) -> None:
    anthropic_api.enqueue(sse([
        start(), opens(0, TEXT_BLOCK), text(0, "Scaling "), text(0, ""), text(0, "now."), closes(0),
        tool(1, "toolu_01A", "scale_service"), json_piece(1, ""), json_piece(1, '{"serv'),
        json_piece(1, 'ice": "a'), json_piece(1, 'pi", "replicas": 3, "zones": ["eu-1", '),
        json_piece(1, '"eu-2"], "note": "caf\\u00e9 \u2615"}'), closes(1),
        opens(2, TEXT_BLOCK), text(2, "Then this."), closes(2),
        tool(3, "toolu_01B", "status"), json_piece(3, '{"service": "api"}'), closes(3),
        ends("tool_use"), STOP,
    ]))  # fmt: skip
    sink = RecordingSink()

    reply = await streamed(anthropic_api, sleeps, sink)

    wanted = {"service": "api", "replicas": 3, "zones": ["eu-1", "eu-2"], "note": "café ☕"}
    assert reply.tool_calls == (
        RawToolCall(id="toolu_01A", name="scale_service", arguments=wanted),
        RawToolCall(id="toolu_01B", name="status", arguments={"service": "api"}),
    )
    assert (reply.text, reply.stop_reason) == ("Scaling now.\n\nThen this.", "tool_use")
    assert sink.events == ["Scaling ", "now.", "Then this."]  # empty deltas are not news


@pytest.mark.parametrize(
    ("opening", "pieces", "arguments"),
    [
        ({}, [], {}),  # the API's way of sending a call without arguments: no delta at all
        ({}, [""], {}),
        ({"pre": 1}, [], {"pre": 1}),  # what content_block_start said stands without deltas
        ({"pre": 1}, ['{"b": 2}'], {"b": 2}),  # and is replaced by the streamed input
    ],
)
async def test_tool_input_without_pieces(
    anthropic_api: FakeAnthropic,
    sleeps: SleepRecorder,
    opening: dict[str, Any],
    pieces: list[str],
    arguments: dict[str, Any],
) -> None:
    block = {"type": "tool_use", "id": "toolu_01E", "name": "list_services", "input": opening}
    events = [start(), opens(0, block), *(json_piece(0, p) for p in pieces), closes(0)]
    anthropic_api.enqueue(sse([*events, ends("tool_use"), STOP]))
    reply = await streamed(anthropic_api, sleeps, RecordingSink())
    assert reply.tool_calls == (RawToolCall(id="toolu_01E", name="list_services", arguments=arguments),)  # fmt: skip


async def test_blocks_and_events_signoff_does_not_use_are_skipped_in_place(
    anthropic_api: FakeAnthropic, sleeps: SleepRecorder
) -> None:
    """Thinking, server tools, block types and events newer than this code: none of it is
    text or a call, and the blocks after them are still found by their index."""
    anthropic_api.enqueue(sse([
        start(),
        opens(0, {"type": "thinking", "thinking": "", "signature": ""}),
        delta(0, {"type": "thinking_delta", "thinking": "The user wants..."}),
        delta(0, {"type": "signature_delta", "signature": "EqQBCgIYAhIM"}), closes(0),
        opens(1, {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"}), closes(1),
        opens(2, {"type": "server_tool_use", "id": "srvtoolu_01", "name": "web_search", "input": {}}),
        json_piece(2, '{"query": "api status"}'), closes(2),
        opens(3, {"type": "hologram", "frames": 3}), delta(3, {"type": "hologram_delta", "x": 1}),
        text(3, "not text"), closes(3),
        ("glimmer", {"type": "glimmer", "shine": True}),
        opens(4, TEXT_BLOCK), text(4, "All "), text(4, "clear."), closes(4),
        tool(5, "toolu_01T", "status"), text(5, "stray"), json_piece(5, "{}"), closes(5),
        ends("tool_use"), STOP,
    ]))  # fmt: skip
    sink = RecordingSink()

    reply = await streamed(anthropic_api, sleeps, sink)

    assert reply.text == "All clear." and sink.events == ["All ", "clear."]
    assert reply.tool_calls == (RawToolCall(id="toolu_01T", name="status", arguments={}),)


@pytest.mark.parametrize(
    ("opening", "closing", "counted"),
    [
        ({"input_tokens": 25, "output_tokens": 1}, {"output_tokens": 9}, (25, 9, 0, 0)),
        # the final delta's totals overwrite (cache writes and reads too), but one it
        # leaves out (None) keeps what message_start said
        ({"input_tokens": 100, "output_tokens": 1, "cache_creation_input_tokens": 20,
          "cache_read_input_tokens": 30},
         {"output_tokens": 50, "input_tokens": 120, "cache_read_input_tokens": None,
          "cache_creation_input_tokens": 5}, (120, 50, 5, 30)),
        ({"input_tokens": 25, "output_tokens": 3}, None, (25, 3, 0, 0)),  # no message_delta
    ],
)  # fmt: skip
async def test_usage_is_message_start_updated_by_message_delta(
    anthropic_api: FakeAnthropic,
    sleeps: SleepRecorder,
    opening: dict[str, int],
    closing: dict[str, int | None] | None,
    counted: tuple[int, int, int, int],
) -> None:
    blocks = [opens(0, TEXT_BLOCK), text(0, "Done."), closes(0)]
    final = [ends(usage=closing)] if closing is not None else []
    anthropic_api.enqueue(sse([start(**opening), *blocks, *final, STOP]))
    reply = await streamed(anthropic_api, sleeps, RecordingSink())
    u = reply.usage
    assert (u.input_tokens, u.output_tokens, u.cache_write_tokens, u.cache_read_tokens) == counted
    assert reply.stop_reason == "end_turn"


def failing(error_type: str) -> Scripted:
    error = {"type": "error", "error": {"type": error_type, "message": f"the {error_type}"},
             "request_id": "req_011CMidway"}  # fmt: skip
    return sse([start(), opens(0, TEXT_BLOCK), text(0, "Half"), ("error", error)])


@pytest.mark.parametrize(
    ("error_type", "raised", "status"),
    [
        ("invalid_request_error", ProviderRequestError, 400),
        ("authentication_error", ProviderAuthError, 401),
        ("request_too_large", ProviderRequestError, 413),
    ],
)
async def test_an_error_event_that_will_not_change_is_not_retried(
    anthropic_api: FakeAnthropic,
    sleeps: SleepRecorder,
    error_type: str,
    raised: type[ProviderError],
    status: int,
) -> None:
    anthropic_api.enqueue(failing(error_type))
    with pytest.raises(raised) as caught:
        await streamed(anthropic_api, sleeps, RecordingSink(), attempts=3)
    error = caught.value
    assert (error.status, error.error_type, error.attempts) == (status, error_type, 1)
    assert str(error.request_id).startswith("req_011CFake")  # the response's header
    assert len(anthropic_api.requests) == 1


@pytest.mark.parametrize("error_type", ["rate_limit_error", "api_error", "timeout_error"])
async def test_an_error_event_that_may_pass_is_retried_and_the_text_voided(
    anthropic_api: FakeAnthropic, sleeps: SleepRecorder, error_type: str
) -> None:
    anthropic_api.enqueue(failing(error_type))
    anthropic_api.reply("Whole answer.")
    sink = RecordingSink()
    reply = await streamed(anthropic_api, sleeps, sink, attempts=2)
    assert reply.text == "Whole answer." and sink.text_now == "Whole answer."
    assert sink.events[:2] == ["Half", "<restart>"] and len(sleeps.calls) == 1


async def test_tool_input_that_is_not_json_never_becomes_a_call(
    anthropic_api: FakeAnthropic, sleeps: SleepRecorder
) -> None:
    """Retried like a broken stream; the next answer is taken."""
    bad = [tool(0, "toolu_01X", "restart_service"), json_piece(0, '{"service": '),
           json_piece(0, "}"), closes(0)]  # fmt: skip
    anthropic_api.enqueue(sse([start(), *bad, ends("tool_use"), STOP]))
    good = [tool(0, "toolu_01Y", "restart_service"), json_piece(0, '{"service": "api"}'), closes(0)]
    anthropic_api.enqueue(sse([start(), *good, ends("tool_use"), STOP]))
    reply = await streamed(anthropic_api, sleeps, RecordingSink(), attempts=2)
    assert reply.tool_calls == (RawToolCall(id="toolu_01Y", name="restart_service", arguments={"service": "api"}),)  # fmt: skip
    assert len(anthropic_api.requests) == 2


async def test_input_pieces_after_the_blocks_stop_continue_its_json(
    anthropic_api: FakeAnthropic, sleeps: SleepRecorder
) -> None:
    """Out of order: a piece of a call's input after its content_block_stop. The SDK's
    helper kept one buffer per block, so the call is the whole object; parsing only the
    pieces after the stop made the call's input the number 0."""
    anthropic_api.enqueue(sse([
        start(), tool(0, "toolu_01L", "scale_service"),
        json_piece(0, '{"service": "api", "replicas": 3'), closes(0), json_piece(0, "0}"),
        ends("tool_use"), STOP,
    ]))  # fmt: skip
    reply = await streamed(anthropic_api, sleeps, RecordingSink())
    wanted = {"service": "api", "replicas": 30}
    assert reply.tool_calls == (RawToolCall(id="toolu_01L", name="scale_service", arguments=wanted),)  # fmt: skip


@pytest.mark.parametrize(
    ("opening", "closing", "counted"),
    [
        ({"input_tokens": 25, "output_tokens": 1}, None, (25, 1)),  # message_delta says none
        (None, {"output_tokens": 9}, (0, 9)),  # message_start says none
        (None, None, (0, 0)),
    ],
)
async def test_a_reply_without_usage_is_still_the_reply(
    anthropic_api: FakeAnthropic,
    sleeps: SleepRecorder,
    opening: dict[str, int] | None,
    closing: dict[str, int] | None,
    counted: tuple[int, int],
) -> None:
    """Usage left out (a gateway in front of the API): the answer is whole, so it is taken
    as sent, once; not retried (and paid for again) as a broken stream."""
    _, first = start()
    if opening is None:
        del first["message"]["usage"]
    else:
        first["message"]["usage"] = opening
    last = {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}}
    if closing is not None:
        last["usage"] = closing
    blocks = [opens(0, TEXT_BLOCK), text(0, "Done."), closes(0)]
    events = [("message_start", first), *blocks, ("message_delta", last), STOP]
    anthropic_api.enqueue(sse(events))
    reply = await streamed(anthropic_api, sleeps, RecordingSink(), attempts=2)
    assert reply.text == "Done." and len(anthropic_api.requests) == 1
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == counted
    # No count at all is usage not reported, never a free reply: the budgets get an
    # estimate, labelled as one (the metrics count it apart, no tokens and no cost).
    assert reply.usage_missing is (counted == (0, 0))
    if reply.usage_estimate is not None:
        assert reply.usage_estimate.input_tokens > 0


@pytest.mark.parametrize(
    ("pieces", "stop_reason", "wanted"),
    [
        # The model wrote half a surrogate pair: JSON may spell one, jiter refuses it.
        (['{"service": "api\\ud800", ', '"note": "\\ud83d\\ude00"}'], "tool_use",
         {"service": "api\ufffd", "note": "\U0001f600"}),
        # An escaped backslash before "ud800" is text, not an escape: kept as it is.
        (['{"path": "C:\\\\ud800", "x": "\\udc00"}'], "tool_use",
         {"path": "C:\\ud800", "x": "\ufffd"}),
        # Cut at the output limit right after half a pair: what arrived is kept as it
        # arrived (the engine runs no call of a reply cut off), not refused as garbled.
        (['{"service": "api", "note": "\\ud83d"'], "max_tokens", '{"service": "api", "note": "\\ud83d"'),
    ],
)  # fmt: skip
async def test_half_a_surrogate_pair_in_tool_input_is_replaced_not_a_garbled_stream(
    anthropic_api: FakeAnthropic,
    sleeps: SleepRecorder,
    pieces: list[str],
    stop_reason: str,
    wanted: dict[str, str] | str,
) -> None:
    """Tool input may spell half a surrogate pair (``\\ud800``), as text may: the reply
    without streaming is read, the half replaced by U+FFFD. Streamed, jiter refused the
    input, so the whole (paid) call was made again and, for a model that wrote it again,
    the turn failed as "a reply signoff cannot read"."""
    anthropic_api.enqueue(sse([
        start(), tool(0, "toolu_01U", "service_status"),
        *(json_piece(0, p) for p in pieces), closes(0), ends(stop_reason), STOP,
    ]))  # fmt: skip
    reply = await streamed(anthropic_api, sleeps, RecordingSink())
    assert reply.tool_calls == (RawToolCall(id="toolu_01U", name="service_status", arguments=wanted),)  # fmt: skip
    assert len(anthropic_api.requests) == 1
