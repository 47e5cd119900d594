"""How each model call is made: output limit, per-attempt timeout, retry policy.

Sampling options (temperature etc.) are left at each provider's default on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .read_bound import READ_LIMIT
from .retry import RetryPolicy

__all__ = ["ModelSettings"]


@dataclass(frozen=True)
class ModelSettings:
    max_tokens: int | None = None
    """Upper bound on the reply's output tokens (``max_tokens`` / ``max_completion_tokens``);
    ``None``: the provider's ``default_max_tokens``."""
    timeout_s: float = 120.0
    """Per attempt: connect + send + wait for the whole (non-streamed) reply; a streamed
    one may go this long without anything new (keep-alives do not count)."""
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    prompt_cache: bool = True
    """Anthropic: mark where the prompt cache may serve a request (``anthropic_cache``);
    OpenAI caches long prompts on its own."""
    history_chars: int = 120_000
    """About how many characters of a thread a call sends (``window``): some 30-40k
    tokens, within every supported model's context and, a few calls a session, within
    the default per-session token budget."""
    read_limit: int = READ_LIMIT
    """The most bytes of a body that is not a stream, and of one line of a streamed reply
    (8 MiB at most, ``read_bound.LINE_LIMIT``), read before the attempt ends as
    unreadable (``read_bound``)."""

    def __post_init__(self) -> None:
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ValueError("max_tokens must be at least 1")
        if self.timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        if self.read_limit < 1:
            raise ValueError("read_limit must be at least 1")
        if self.history_chars < 1:
            raise ValueError("history_chars must be at least 1")
