"""The OpenAI SDK's client, its event stream read as the SSE standard reads it.

The SDK's decoder hands on an event at every blank line that ends a block of fields,
whether or not the block had data, and its stream parses each event's data as JSON. A
block with none (``retry: 3000``, the reconnection delay a server may send first;
``event: ping``; a blank line more after an ``id:``, which the decoder never forgets) or
an empty ``data:`` was "an event that is not JSON" on every attempt, so no call to a
server that sent one worked. The standard dispatches no event whose data is empty, and
the Anthropic SDK passes over one whose data is; here too, such an event is not handed
on. The seam is the SDK's own, ``_make_sse_decoder``, private to it: the tests
(``test_an_event_with_no_data_is_passed_over``) say when an SDK no longer calls it.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openai import AsyncOpenAI

__all__ = ["openai_client"]


def openai_client(**options: Any) -> AsyncOpenAI:
    """``openai.AsyncOpenAI(**options)`` that passes over events with no data."""
    return _client_class()(**options)


@cache
def _client_class() -> type[AsyncOpenAI]:
    import openai
    from openai._streaming import ServerSentEvent, SSEDecoder

    class Decoder(SSEDecoder):
        def decode(self, line: str) -> ServerSentEvent | None:
            event = super().decode(line)
            return event if event is None or event.data else None

    class Client(openai.AsyncOpenAI):
        def _make_sse_decoder(self) -> SSEDecoder:
            return Decoder()

    return Client
