"""Reading a token count from a provider's usage object, whatever the SDK gave."""

from __future__ import annotations

__all__ = ["token_count"]


def token_count(usage: object, field: str) -> int:
    """``usage.field`` as a count: 0 when absent or not an int (``usage`` may be None),
    never below 0, as budgets add them up."""
    value = getattr(usage, field, None)
    return max(0, value) if isinstance(value, int) else 0
