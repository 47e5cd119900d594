"""stdout for the commands that record, then print (``approve``, ``deny``, ``say``,
``recover``, ``reindex``): output that cannot be written (a full disk, ``> /dev/full``)
ends neither the command nor its work, and is said on stderr afterwards.

Raised where it happened, the error ended ``approve`` as a usage error (exit 2) after the
decision was recorded, and before the approved call ran: it was left for a bot.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO, cast

from .terminal_text import printable

__all__ = ["RECORDING", "kept_output"]

# What each command has recorded by the time it prints, as its stderr line says it.
RECORDING = {
    "approve": "the decision is recorded",
    "deny": "the decision is recorded",
    "say": "the message is stored",
    "recover": "recovery has run",
    "reindex": "the index is rebuilt",
}


class KeptOutput:
    """Writes through to ``stream`` until a write or flush fails; that error is kept, and
    what comes after goes nowhere (the descriptor is pointed at /dev/null, so the
    interpreter's last flush of what the stream still holds does not fail again)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.failed: OSError | None = None

    def write(self, text: str) -> int:
        if self.failed is None:
            try:
                return self.stream.write(text)
            except OSError as exc:
                self._lost(exc)
        return len(text)

    def flush(self) -> None:
        if self.failed is None:
            try:
                self.stream.flush()
            except OSError as exc:
                self._lost(exc)

    def __getattr__(self, name: str) -> object:  # encoding, isatty, fileno: the stream's
        return getattr(self.stream, name)

    def _lost(self, exc: OSError) -> None:
        self.failed = exc
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), self.stream.fileno())
        except (OSError, ValueError):
            pass  # no descriptor (captured in tests): nothing is flushed to one

    def status(self, command: str, code: int, *, unfinished: int) -> int:
        """The exit status once the command returned ``code``: a reader that went away
        is 141, as for every command; any other lost output is said, and the status is
        ``unfinished`` (recorded, not all done) unless nothing was recorded (``code`` 1,
        a refused decision, whose line is what was lost)."""
        if self.failed is None:
            return code
        if isinstance(self.failed, BrokenPipeError):
            return 128 + signal.SIGPIPE
        why = self.failed.strerror or str(self.failed) or type(self.failed).__name__
        done = RECORDING[command] if code != 1 else "no decision was recorded"
        sys.stderr.write(printable(f"signoff: {done}, but its output could not be written: {why}"))
        sys.stderr.write("\n")
        return code if code == 1 else unfinished


@contextmanager
def kept_output() -> Iterator[KeptOutput]:
    """``sys.stdout`` kept (``KeptOutput``) for the block, and flushed at its end."""
    real = sys.stdout
    kept = KeptOutput(real)
    sys.stdout = cast(TextIO, kept)
    try:
        yield kept
        kept.flush()
    finally:
        sys.stdout = real
