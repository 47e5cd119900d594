"""Text from outside (people, models, a tampered home) written to a terminal, or to a file
read in one: what a terminal would act on (ESC, ``\\r``, a bell) is written out as its
escape (``\\x1b``), never acted on."""

from __future__ import annotations

import json

__all__ = ["printable", "printable_json"]


def printable(text: str, *, keep: str = "") -> str:
    """``text`` with every character that is not printable escaped, but those in ``keep``
    (line breaks where the output has lines of its own)."""
    if text.isprintable():  # the common case, checked at C speed (a log line each)
        return text
    return "".join(c if c.isprintable() or c in keep else ascii(c)[1:-1] for c in text)


def printable_json(text: str) -> str:
    """JSON text written with ``ensure_ascii=False`` (which escapes only what is below
    U+0020) with every other character that is not printable, such as an 8-bit CSI
    (U+009B) or a right-to-left override, as its ``\\u`` escape: the same JSON, read back
    as written, and inert in a terminal."""
    if text.isprintable():  # the common case, checked at C speed (a log line each)
        return text
    return "".join(c if c.isprintable() else json.dumps(c)[1:-1] for c in text)
