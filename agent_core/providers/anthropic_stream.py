"""A streamed Messages API reply put back together, event by event.

With ``stream: true`` the API sends ``message_start`` (the message with no content yet and
the input usage), per content block ``content_block_start`` / ``content_block_delta`` /
``content_block_stop``, then ``message_delta`` (stop reason, cumulative usage) and
``message_stop``; an ``error`` event midway is raised by the SDK's stream itself.
``MessageAssembler`` rebuilds the ``Message`` the same call without streaming returns, so
it goes through the same conversion (``from_anthropic``).

The SDK's ``messages.stream`` helper does the same, but on every event it also updates a
pydantic snapshot and builds a derived event (a second item per text delta through our
stall guard), and for tool input re-parses all the JSON received so far: a fifth of the
CPU of a streamed reply. This keeps its results, block for block: deltas find their
block by position in arrival order, text and JSON pieces are joined once,
``message_delta`` usage overwrites what ``message_start`` said only where it says
something, events before ``message_start`` are ignored, and whatever the helper would have
raised on a malformed event raises here too, but for two things: tool input with half a
surrogate pair (``\\ud800``, which JSON may spell and jiter refuses) is read with the half
as U+FFFD, as the reply without streaming is recorded, not refused as a garbled stream
(which made the whole call again); and tool input that ends before its JSON does is kept
as the text that arrived, where the helper's partial parse closed ``{"replicas": 3`` into
an object for 3 replicas: the engine refuses to run it, whatever the stop reason says.
A gateway that translates another model's reply into these events may send ``null`` for
content and text the API always fills (``[]``, ``""``): read as those.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

__all__ = ["MessageAssembler", "made_progress"]

if TYPE_CHECKING:
    from anthropic.types import Message as AnthropicMessage
    from anthropic.types import RawMessageDeltaEvent, RawMessageStreamEvent

# Blocks whose input arrives as input_json_delta pieces (the SDK's TRACKS_TOOL_INPUT).
_TAKES_JSON = frozenset({"tool_use", "server_tool_use"})
# In JSON text: an escaped backslash (kept: ``\\ud800`` is text), a whole surrogate pair
# (kept), or half of one (replaced).
_SURROGATE_ESCAPE = re.compile(
    r"\\\\|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\u[dD][89a-fA-F][0-9a-fA-F]{2}"
)
_COUNTS = (
    "output_tokens",
    "input_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)


def made_progress(event: RawMessageStreamEvent) -> bool:
    """Does ``event`` bring any of the reply? An empty text or JSON piece brings no more
    than a ping does: a server that sends only those is stalled (thinking is progress)."""
    if getattr(event, "type", None) != "content_block_delta":
        return True
    delta: Any = getattr(event, "delta", None)
    kind = getattr(delta, "type", None)
    if kind == "text_delta":
        return bool(getattr(delta, "text", True))
    if kind == "input_json_delta":
        return bool(getattr(delta, "partial_json", True))
    return True


class MessageAssembler:
    def __init__(self) -> None:
        self.events = 0
        self.stopped = False
        """Whether ``message_stop`` came: without it the stream was cut short."""
        self.received = 0
        """Characters of the answer so far (text, tool input): the cap's."""
        self.thought = 0
        """Characters of thinking so far: Claude's is within ``max_tokens``, so the cap
        counts it with the answer (``AnswerCap``)."""
        self._message: AnthropicMessage | None = None
        self._blocks: list[Any] = []
        # Per block, in step with _blocks: the text or JSON pieces not joined yet.
        self._pieces: list[list[str] | None] = []

    def add(self, event: RawMessageStreamEvent) -> str:
        """Take one event; the text it adds to a text block (for the live view)."""
        self.events += 1
        if event.type == "content_block_delta" and self._message is not None:
            # The most frequent event by far, hence first and inline.
            block = self._blocks[event.index]
            delta = event.delta
            if delta.type == "text_delta":
                if block.type != "text":
                    return ""
                text: object = delta.text
                if not isinstance(text, str):
                    raise TypeError(f"text_delta with {type(text).__name__} text")
                self._piece(event.index).append(text)
                self.received += len(text)
                return text
            if delta.type == "input_json_delta" and block.type in _TAKES_JSON:
                self._piece(event.index).append(delta.partial_json)
                self.received += len(delta.partial_json)
            elif delta.type == "thinking_delta":  # not kept, but within max_tokens
                self.thought += len(getattr(delta, "thinking", "") or "")
            return ""
        if event.type == "message_stop":
            self.stopped = True
        elif self._message is None:
            if event.type == "message_start":
                self._message = event.message
                if getattr(event.message, "usage", None) is None:  # a gateway left it out
                    from anthropic.types import Usage

                    event.message.usage = Usage(input_tokens=0, output_tokens=0)
                # A gateway translating another model's reply may send null for what the
                # API always fills: no content yet, a text block's empty text.
                self._blocks = list(event.message.content or ())
                self._pieces = [None] * len(self._blocks)
        elif event.type == "content_block_start":
            block = event.content_block
            if not hasattr(block, "type"):
                raise TypeError(f"content_block_start with a {type(block).__name__} block")
            self._blocks.append(block)
            self._pieces.append(None)
        # content_block_stop settles nothing: a piece after it continues the block (one
        # buffer per block, as the helper kept), and message() joins every block once.
        elif event.type == "message_delta":
            self._delta(self._message, event)
        return ""

    @property
    def started(self) -> bool:
        """Whether ``message_start`` came (``message`` needs it)."""
        return self._message is not None

    def message(self) -> AnthropicMessage:
        """The reply, as the SDK's ``Message``; raises what the helper would have raised
        when a block does not add up (tool input that is not JSON)."""
        assert self._message is not None, "no message_start"
        for index in range(len(self._blocks)):
            self._settle(index)
        self._message.content = self._blocks
        return self._message

    def _piece(self, index: int) -> list[str]:
        pieces = self._pieces[index]
        if pieces is None:
            pieces = self._pieces[index] = []
        return pieces

    def _settle(self, index: int) -> None:
        """Join the block's pieces into it (the JSON parsed once, not once per piece)."""
        block = self._blocks[index]
        pieces = self._pieces[index]
        if not pieces:
            return
        self._pieces[index] = None
        if block.type == "text":
            block.text = (block.text or "") + "".join(pieces)
            return
        raw = "".join(pieces)
        if raw:  # no JSON at all (or only empty pieces): the input content_block_start gave
            block.input = _tool_input(raw)

    @staticmethod
    def _delta(message: AnthropicMessage, event: RawMessageDeltaEvent) -> None:
        # Usage counts here are cumulative totals: they overwrite, and one left out (None,
        # or no usage at all: the answer is whole all the same) keeps what message_start said.
        message.stop_reason = event.delta.stop_reason
        message.stop_sequence = event.delta.stop_sequence
        usage = getattr(event, "usage", None)
        for field in _COUNTS if usage is not None else ():
            value = getattr(usage, field, None)
            if value is not None:
                setattr(message.usage, field, value)


def _tool_input(raw: str) -> Any:
    """A tool block's joined JSON pieces: the value, or the text itself when it is JSON
    only once closed (``{"replicas": 3``: cut off, whatever the stop reason says), for the
    engine to refuse as what arrived; not JSON even so raises, as the helper did."""
    from jiter import from_json

    try:
        try:
            return from_json(raw.encode())
        except ValueError:  # half a surrogate pair, which JSON may spell and jiter refuses
            return from_json(_whole_pairs(raw).encode())
    except ValueError:
        from_json(_whole_pairs(raw).encode(), partial_mode=True)  # raises if not even that
        return raw


def _whole_pairs(raw: str) -> str:
    """``raw`` JSON text with each half of a surrogate pair (escaped, or a pair split
    between two pieces) made U+FFFD, as a reply without streaming is recorded; a JSON
    error of any other kind stays, for ``message`` to raise."""
    raw = raw.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return _SURROGATE_ESCAPE.sub(lambda m: m[0] if len(m[0]) != 6 else "\\ufffd", raw)
