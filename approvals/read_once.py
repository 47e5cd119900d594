"""Each approval read from disk once in a worker's pass over its thread.

A pass (the stale check, whether a decision is work for the thread, whether the calls
asked with it are ready, settle's scan of the lineage, the live view's people) opened the
same approval again and again: between a click and its tool, the capsule was read and its
hash checked six times. Capsules and their pointers are create-only, so within
``read_once()`` each is read and checked once and kept for the pass; the files that change
(votes, edits, the decision, the card, the claim, the result) are still read afresh by
``ApprovalRequest``, and ``realize`` checks the hashes again right before a call runs.
Outside a pass (a click, the CLI, the outbox) every open reads the disk.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .capsule import Capsule

__all__ = ["PassReads", "keep_opened", "opened_in_pass", "pass_reads", "read_once"]


@dataclass
class PassReads:
    """What one pass has read: capsules by path, checked requests by approval id."""

    capsules: dict[str, Capsule] = field(default_factory=dict)
    # (home, approval id) -> where its session is and its capsule, as ``open`` checked them
    opened: dict[tuple[Path, str], tuple[Path, Capsule]] = field(default_factory=dict)


_current: ContextVar[PassReads | None] = ContextVar("signoff_pass_reads", default=None)


def pass_reads() -> PassReads | None:
    """The reads of the pass this code runs in, if any."""
    return _current.get()


@contextmanager
def read_once() -> Iterator[PassReads]:
    reads = PassReads()
    token = _current.set(reads)
    try:
        yield reads
    finally:
        _current.reset(token)


def opened_in_pass(home: Path, approval_id: str) -> tuple[Path, Capsule] | None:
    """The session directory and capsule this pass's ``ApprovalRequest.open`` checked."""
    reads = _current.get()
    return None if reads is None else reads.opened.get((home, approval_id))


def keep_opened(home: Path, approval_id: str, session_dir: Path, capsule: Capsule) -> None:
    if (reads := _current.get()) is not None:
        reads.opened[(home, approval_id)] = (session_dir, capsule)
