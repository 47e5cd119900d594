"""Text from outside (people, models, a tampered home) written to a terminal, or to a file
read in one: what a terminal would act on (ESC, ``\\r``, a bell) is written out as its
escape (``\\x1b``), never acted on."""

from __future__ import annotations

__all__ = ["printable"]


def printable(text: str, *, keep: str = "") -> str:
    """``text`` with every character that is not printable escaped, but those in ``keep``
    (line breaks where the output has lines of its own)."""
    return "".join(c if c.isprintable() or c in keep else ascii(c)[1:-1] for c in text)
