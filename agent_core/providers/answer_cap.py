"""The most of one answer signoff reads: a bound for a server that ignores ``max_tokens``.

A streamed answer grows until its server ends it. One that never does (a compatible
server or a gateway that ignores the output limit, a model looping) was bounded only by
the thread's stop button and the session's time budget: every piece is progress, so the
stall guard never fires, and the answer grew in memory, in the live view and then in the
thread. An answer is cut once what arrived of it (text, tool input) passes
``ANSWER_CHARS_PER_TOKEN`` characters a token of the output limit: a token is about 4
characters of English or JSON, so no answer within the limit comes near it.

Thinking is counted as its server bounds it. Claude's is within ``max_tokens``, so it
counts with the answer (``thinking_apart=False``). An OpenAI-compatible server's need not
be: DeepSeek's reasoner thinks up to 32K tokens past ``max_tokens``, so there it has an
allowance of its own, as for an answer of ``THINKING_TOKENS`` (128,000: the largest
output limit Anthropic and OpenAI document for one reply, thinking included, and
``SIGNOFF_MAX_OUTPUT_TOKENS``'s ceiling), or of ``max_tokens`` when that is more. Thinking
is not kept, so its bound is on a server that never stops thinking: time and tokens. A
reply cut there ends ``overlong_thinking``, not ``overlong``: its answer may be empty and
well within the output limit, so it is told as thinking cut off.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from ..model import ModelReply
from .token_counts import CHARS_PER_TOKEN

__all__ = [
    "ANSWER_CHARS_PER_TOKEN",
    "THINKING_TOKENS",
    "AnswerCap",
    "AnswerWatch",
    "Bounded",
    "answer_cap",
    "cut_overlong",
]

log = logging.getLogger("agent_core.providers")

ANSWER_CHARS_PER_TOKEN = 10
THINKING_TOKENS = 128_000

Bounded = Literal["answer", "thinking"]
"""What of an answer has a bound: the answer (text, tool input), or its thinking."""


def answer_cap(max_tokens: int) -> int:
    """The most characters of one answer read, for an output limit of ``max_tokens``."""
    return max_tokens * ANSWER_CHARS_PER_TOKEN


@dataclass(frozen=True)
class AnswerCap:
    """The bound on one streamed answer of an output limit of ``max_tokens``."""

    max_tokens: int
    thinking_apart: bool
    """Whether thinking may lie outside ``max_tokens``, and so has its own allowance."""

    def passed(self, *, received: int, thought: int) -> Bounded | None:
        """What went past its bound, ``received`` characters of the answer (text, tool
        input) and ``thought`` of thinking having arrived; ``None`` while neither has."""
        if not self.thinking_apart:
            return "answer" if received + thought > self.bound("answer") else None
        if received > self.bound("answer"):
            return "answer"
        if thought > self.bound("thinking"):
            return "thinking"
        return None

    def bound(self, what: Bounded) -> int:
        """The most characters of ``what`` read."""
        if what == "thinking":
            return answer_cap(max(self.max_tokens, THINKING_TOKENS))
        return answer_cap(self.max_tokens)


class Counted(Protocol):
    """A stream's assembler, as the cap reads it: characters of the answer so far (text,
    tool input) and of its thinking."""

    @property
    def received(self) -> int: ...

    @property
    def thought(self) -> int: ...


class AnswerWatch:
    """One streamed call's answer held to its ``cap``, the same for every provider: each
    attempt's loop asks ``passed`` after every event and closes the stream on ``True``;
    the reply is then ``settled`` as cut. A retry starts afresh (``begin``)."""

    def __init__(self, cap: AnswerCap) -> None:
        self.cap = cap
        self.cut: Bounded | None = None
        """What passed its bound in the attempt in hand: the answer, or its thinking."""
        self.thought = 0
        """Characters of thinking in the attempt in hand, as last counted: the reply does
        not keep them, but a usage estimate counts them (``estimated_usage``)."""
        self._at = 0  # what arrived of it, thinking included, when it was cut

    def begin(self) -> None:
        """An attempt begins: what an earlier one counted is void."""
        self.cut, self.thought, self._at = None, 0, 0

    def passed(self, counted: Counted) -> bool:
        """Whether what ``counted`` has so far went past its bound (a server ignoring
        ``max_tokens``, or one that never stops thinking): the stream is closed there."""
        self.thought = counted.thought
        self.cut = self.cap.passed(received=counted.received, thought=counted.thought)
        if self.cut is not None:
            self._at = counted.received + counted.thought
        return self.cut is not None

    def settled(self, reply: ModelReply, *, model: str) -> ModelReply:
        """``reply`` as the cap left it: as is, or cut (``cut_overlong``)."""
        if self.cut is None:
            return reply
        return cut_overlong(reply, received=self._at, model=model, cap=self.cap, what=self.cut)


def cut_overlong(
    reply: ModelReply,
    *,
    received: int,
    model: str,
    cap: AnswerCap,
    what: Bounded,
) -> ModelReply:
    """``reply`` of ``model`` as cut at the ``cap`` of its ``what`` after ``received``
    characters (thinking included): ``overlong`` for its answer, ``overlong_thinking`` for
    its thinking (told in the thread as cut off, its calls not run), its output counted as
    at least what arrived, since the API's final count never came (in the budgets'
    estimate, for a reply with no usage at all)."""
    if what == "thinking":  # the answer may be empty, far within the output limit
        log.warning(
            "%s: its thinking went on past its allowance of %s characters (%s characters "
            "arrived, answer included); cut off",
            model,
            f"{cap.bound('thinking'):,}",
            f"{received:,}",
        )
    else:
        log.warning(
            "%s: its answer went on past its bound of %s characters (output limit %d "
            "tokens, %s characters arrived, thinking included); cut off",
            model,
            f"{cap.bound('answer'):,}",
            cap.max_tokens,
            f"{received:,}",
        )
    update: dict[str, Any] = {
        "stop_reason": "overlong_thinking" if what == "thinking" else "overlong"
    }
    got = -(-received // CHARS_PER_TOKEN)
    counted = "usage" if reply.usage.total else "usage_estimate"
    usage = getattr(reply, counted)
    if usage is not None:
        update[counted] = usage.model_copy(update={"output_tokens": max(usage.output_tokens, got)})
    return reply.model_copy(update=update)
