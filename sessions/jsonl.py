"""Reading append-only JSON Lines files written by ``append_line``."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .atomic import read_file

__all__ = ["lines_since", "read_jsonl"]


def read_jsonl(path: Path, *, unsynced: bool = False) -> Iterator[dict[str, Any]]:
    """Yield each complete record; a torn final line (a crash mid-append) is skipped.

    Only the *last* line may be torn: every earlier line was fsynced before the next
    append began, so a bad line elsewhere is real corruption and is raised. ``unsynced``
    files (the trace) are appended without a sync per line: after a power cut any line
    may be torn or zero-filled, and the next append ends it, so bad lines are skipped.
    """
    try:
        raw = read_file(path)  # a regular file: never a FIFO's wait for a writer
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


def lines_since(path: Path, offset: int) -> tuple[int, list[tuple[int, bytes]]] | None:
    """The complete lines appended to ``path`` since ``offset`` (each with where it
    starts) and the offset after them; None when the file is shorter than ``offset`` (not
    the file read before: a restored home), so the caller starts over from 0. A missing
    file reads as empty; a line still being written is read next time."""
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        size = 0
    if size < offset:
        return None
    if size == offset:
        return offset, []
    with path.open("rb") as log:
        log.seek(offset)
        data = log.read(size - offset)
    end = data.rfind(b"\n") + 1
    out: list[tuple[int, bytes]] = []
    start = offset
    for raw in data[:end].split(b"\n")[:-1]:
        out.append((start, raw))
        start += len(raw) + 1
    return offset + end, out
