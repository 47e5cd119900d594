"""Tool output the model reads is capped; the whole of it stays beside the trace.

The full text goes to the session's ``workspace/`` (sealed with the session), and the
capped text says where, so a person can read what the model could not.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from pathlib import Path

__all__ = ["OUTPUT_LIMIT", "clip_text", "mask_secrets", "output_path", "read_head"]

# Characters of each output the model reads; more goes only to the workspace file.
OUTPUT_LIMIT = 6000
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
# Shorter words of a secret are not masked: "Bearer" would garble every output it appears
# in, and is no token. A whole value is, from a length no setting of a few characters
# ("1", "on") has: a short password is still a password.
_SECRET_MIN = 8
_WHOLE_SECRET_MIN = 4
# Where a secret starts a word of its own, or follows a one-letter option it is glued to
# (`mysql -pPASSWORD`, as a `set -x` trace prints it: "-p" made it part of a longer word).
_WORD_START = r"(?:(?<![\w-])|(?<=(?<![\w-])-[A-Za-z]))"
# Bytes read past a capped head, so that a secret the cut goes through is read whole.
_SECRET_READ_AHEAD = 4096


def output_path(workspace: Path, *, tool: str, call_id: str, stream: str) -> Path:
    """Where one stream of one call is kept, e.g. ``workspace/tool-output/<call>.stdout``.
    A name that had to be changed to be a file name (a model's call id is its own choice)
    ends in a digest of what it was, so two calls of one reply never share a file."""
    name = f"{tool}-{call_id or 'call'}"
    stem = _UNSAFE.sub("_", name)
    if stem != name or len(stem) > 120:
        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        stem = f"{stem[:100]}-{digest}"
    return workspace / "tool-output" / f"{stem}.{stream}"


def clip_text(
    text: str, *, limit: int = OUTPUT_LIMIT, kept: Path | None = None, secrets: Iterable[str] = ()
) -> str:
    """``text`` cut to ``limit`` characters, saying how much was cut and where it is.
    ``secrets`` are masked before the cut: one the cut went through would not be whole."""
    text = mask_secrets(text, secrets)
    if len(text) <= limit:
        return text
    where = f"; the whole output is in {kept}" if kept is not None else ""
    return text[:limit] + f"\n… [{len(text) - limit} more characters cut{where}]"


def mask_secrets(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each secret, and each word of one ("Bearer <token>"), as ``***``:
    where it stands whole, not inside a longer word that only contains its text."""
    pieces = {s for s in secrets if len(s) >= _WHOLE_SECRET_MIN}
    pieces |= {word for s in secrets for word in s.split() if len(word) >= _SECRET_MIN}
    for piece in sorted(pieces, key=len, reverse=True):  # a whole value before its words
        text = re.sub(rf"{_WORD_START}{re.escape(piece)}(?![\w-])", "***", text)
    return text


def read_head(
    fd: int, *, kept: Path | None, limit: int = OUTPUT_LIMIT, secrets: Iterable[str] = ()
) -> tuple[str, int]:
    """The first ``limit`` characters of an open file (however large it is) and its size in
    bytes; ``kept``: where the whole of it is, None when its path was removed. ``secrets``
    are masked before the cut (read a little further, so one that straddles it is whole)."""
    size = os.fstat(fd).st_size
    head = os.pread(fd, limit * 4 + _SECRET_READ_AHEAD, 0)
    text = mask_secrets(head.decode("utf-8", errors="replace"), secrets)
    if len(text) <= limit and size == len(head):
        return text, size
    where = f"the whole output is in {kept}" if kept is not None else "its file was removed"
    return text[:limit] + f"\n… [cut: {size} bytes in all; {where}]", size
