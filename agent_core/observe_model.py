"""The model calls' events: each call and how it ended, and each retry of one.

Apart from ``observe`` (which holds the rest and re-exports these) because a call's
tokens and cost make it the largest event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sessions import ThreadKey

from .messages import Usage

__all__ = ["ModelCall", "ModelRetried"]


@dataclass(frozen=True, kw_only=True)
class ModelCall:
    """One model call: its provider (``anthropic``, ``openai``, ``offline``, …) and how it
    ended: ``ok`` (its answer used), ``error``, ``cancelled`` (cut off in flight: by a stop,
    or an early call let go; its cost is not known) or ``discarded`` (answered, and paid
    for, but not used: an early call its turn let go). ``usage_reported`` False: it
    answered without its usage (a stream cut before its usage chunk, a server that sends
    none), so its tokens and cost are unknown, not 0."""

    provider: str
    outcome: Literal["ok", "error", "cancelled", "discarded"]
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    usd: float = 0.0
    session_id: str = ""
    # The thread the session answers, where the caller holds it: an operator reading a
    # model_error line finds the conversation without looking the session up.
    thread: ThreadKey | None = None
    error: str = ""
    usage_reported: bool = True

    @classmethod
    def answered(
        cls,
        *,
        provider: str,
        outcome: Literal["ok", "discarded"],
        usage: Usage,
        usd: float,
        session_id: str,
        thread: ThreadKey | None = None,
        usage_reported: bool = True,
    ) -> ModelCall:
        """A call that answered: its reply's token counts, as the provider reported them.
        Without them (``usage_reported`` False) no cost either: a cost the budgets
        estimated is not one the provider billed, and beside 0 tokens it would read as
        spend from nothing."""
        return cls(
            provider=provider,
            outcome=outcome,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_write_tokens=usage.cache_write_tokens,
            cache_read_tokens=usage.cache_read_tokens,
            usd=usd if usage_reported else 0.0,
            session_id=session_id,
            thread=thread,
            usage_reported=usage_reported,
        )


@dataclass(frozen=True, kw_only=True)
class ModelRetried:
    """A model call failed and is tried again: its provider and why (``529
    overloaded_error``, ``timed out``), as the people waiting are told. A call that then
    answers is counted once in ``ModelCall``; its retries, here, once each."""

    provider: str
    reason: str
