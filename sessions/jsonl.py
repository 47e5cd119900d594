"""Reading append-only JSON Lines files written by ``append_line``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["read_jsonl"]


def read_jsonl(path: Path, *, unsynced: bool = False) -> Iterator[dict[str, Any]]:
    """Yield each complete record; a torn final line (a crash mid-append) is skipped.

    Only the *last* line may be torn: every earlier line was fsynced before the next
    append began, so a bad line elsewhere is real corruption and is raised. ``unsynced``
    files (the trace) are appended without a sync per line: after a power cut any line
    may be torn or zero-filled, and the next append ends it, so bad lines are skipped.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return
    lines = raw.split(b"\n")
    complete, tail = lines[:-1], lines[-1]
    for number, line in enumerate(complete, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            if unsynced:
                continue
            from .errors import CorruptRecordError

            raise CorruptRecordError(f"{path}:{number}: {exc}") from exc
        if isinstance(record, dict):
            yield record
    if tail.strip():
        try:
            record = json.loads(tail)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return
        if isinstance(record, dict):
            yield record
