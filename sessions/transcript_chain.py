"""A session's transcript as a chain: a child holds a reference to its parent, not a copy.

A child's ``transcript.jsonl`` starts with one reference record (``transcript_reference``):
"before my own lines come the first N lines of that session's transcript, whose bytes
hash to sha256". Copying the parent made a long thread write O(n²) bytes; the lineage
*is* the transcript, so a reference costs one line. Sessions written before this hold a
full copy and no reference; they read as before.

Every read follows the chain and checks each link's hash, so an ancestor changed on
disk is a CorruptRecordError (and resume refuses), like any tampering. Re-reading every
ancestor on every turn would be quadratic again, so resolved sessions are cached per
process, keyed by file identity (inode, size, mtime): a turn re-reads only the files that
changed (its own and its parent's) and stats the rest.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .atomic import read_file
from .errors import CorruptRecordError, NotFoundError
from .transcript_reference import TranscriptReference, first_reference, split_transcript

__all__ = [
    "Locate",
    "forget_cached",
    "inherited_lines",
    "read_chain",
    "reference_to",
    "torn_tail",
    "transcript_segments",
]

_CACHE_ENTRIES = 4096
_CACHE_BYTES = 64 << 20

Locate = Callable[[str], Path]


@dataclass(frozen=True)
class _Resolved:
    """One session's transcript file, resolved against its (already checked) parent.

    The parent is held weakly: the cache, bounded in bytes, decides what stays in memory,
    and an entry whose parent was dropped is read again (and checked again) from disk.
    """

    path: Path
    stamp: tuple[int, int, int]
    parent: weakref.ref[_Resolved] | None
    parent_take: int  # how many of the parent's lines come first (0 without a parent)
    own: tuple[bytes, ...]  # complete lines of this file, the reference excluded
    tail: dict[str, Any] | None  # an unterminated last record that still parses
    torn: int  # bytes of an unterminated last line that does not (left out)
    total: int
    digest: Any  # a hashlib object over all ``total`` lines; copied, never updated
    size: int  # bytes of ``own``, for the cache's budget


def _lines(chain: list[_Resolved]) -> list[bytes]:
    out: list[bytes] = []
    for entry in chain:
        del out[entry.parent_take :]  # a no-op unless it took fewer than its parent had
        out.extend(entry.own)
    return out


_cache: OrderedDict[Path, _Resolved] = OrderedDict()
_cached_bytes = 0
_lock = threading.Lock()


def forget_cached() -> None:
    """Drop every resolved transcript (benchmarks measure a cold read with it)."""
    global _cached_bytes
    with _lock:
        _cache.clear()
        _cached_bytes = 0


def _remember(entry: _Resolved) -> None:
    global _cached_bytes
    with _lock:
        old = _cache.pop(entry.path, None)
        _cached_bytes -= old.size if old is not None else 0
        _cache[entry.path] = entry
        _cached_bytes += entry.size
        while len(_cache) > _CACHE_ENTRIES or (_cached_bytes > _CACHE_BYTES and len(_cache) > 1):
            _, dropped = _cache.popitem(last=False)
            _cached_bytes -= dropped.size


def _stamp(path: Path) -> tuple[int, int, int]:
    try:
        st = os.stat(path)
    except FileNotFoundError as exc:
        raise NotFoundError(f"{path}: no transcript") from exc
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _fresh(entry: _Resolved) -> list[_Resolved] | None:
    """The chain (root first) if this entry and every ancestor it was built on are still
    in memory and unchanged on disk; None if any is not."""
    chain = [entry]
    while True:
        node = chain[-1]
        try:
            if _stamp(node.path) != node.stamp:
                return None
        except NotFoundError:
            return None
        if node.parent is None:
            return chain[::-1]
        parent = node.parent()
        if parent is None:
            return None
        chain.append(parent)


def _resolve(path: Path, locate: Locate) -> list[_Resolved]:
    """The verified chain of ``path``'s transcript, root first."""
    pending: list[tuple[Path, tuple[int, int, int], bytes]] = []
    seen: set[Path] = set()
    current = path
    chain: list[_Resolved] = []
    # Walk back to the first session whose cached entry still holds (or to the root).
    while True:
        with _lock:
            cached = _cache.get(current)
        fresh = _fresh(cached) if cached is not None else None
        if fresh is not None:
            chain = fresh
            break
        if current in seen:
            # Only a hand-edited file can point back into its own chain.
            raise CorruptRecordError(f"{path}: transcript references loop")
        seen.add(current)
        stamp = _stamp(current)
        raw = read_file(current)  # a FIFO by its name: refused, never waited on
        pending.append((current, stamp, raw))
        ref = first_reference(current, raw)
        if ref is None:
            break
        current = locate(ref.session) / "transcript.jsonl"
        if not current.exists():
            # Only its transcript gone is not the session gone: a person would look for it.
            what = (
                "whose transcript is missing" if current.parent.is_dir() else "which does not exist"
            )
            raise CorruptRecordError(f"{path}: continues {ref.session}, {what}")
    for file_path, stamp, raw in reversed(pending):
        entry = _link(file_path, stamp, raw, chain)
        if entry.parent is None:
            chain = []
        chain.append(entry)
        _remember(entry)
    return chain


def _link(path: Path, stamp: tuple[int, int, int], raw: bytes, chain: list[_Resolved]) -> _Resolved:
    ref, own, tail, torn = split_transcript(path, raw)
    take = 0
    parent = chain[-1] if ref is not None and chain else None
    if parent is None:
        digest = hashlib.sha256()
    else:
        assert ref is not None
        if ref.lines > parent.total:
            raise CorruptRecordError(
                f"{path}: continues {ref.session} for {ref.lines} lines, which has {parent.total}"
            )
        if ref.lines == parent.total:
            digest = parent.digest.copy()
        else:
            digest = hashlib.sha256()
            for line in _lines(chain)[: ref.lines]:
                digest.update(line + b"\n")
        if digest.hexdigest() != ref.sha256:
            raise CorruptRecordError(
                f"{path}: {ref.session}'s transcript changed after this session continued it"
            )
        take = ref.lines
    for line in own:
        digest.update(line + b"\n")
    return _Resolved(
        path=path,
        stamp=stamp,
        parent=weakref.ref(parent) if parent is not None else None,
        parent_take=take,
        own=tuple(own),
        tail=tail,
        torn=torn,
        total=take + len(own),
        digest=digest,
        size=sum(len(line) for line in own),
    )


def read_chain(path: Path, *, locate: Locate) -> list[dict[str, Any]]:
    """The whole transcript of the session whose ``transcript.jsonl`` is ``path``."""
    try:
        chain = _resolve(path, locate)
    except NotFoundError:
        if path.exists():
            raise
        return []
    records: list[dict[str, Any]] = [json.loads(line) for line in _lines(chain)]
    entry = chain[-1]
    if entry.tail is not None:
        records.append(entry.tail)
    return records


def inherited_lines(path: Path, *, locate: Locate) -> int | None:
    """How many records come from the referenced parent; None for a full copy (old)."""
    try:
        entry = _resolve(path, locate)[-1]
    except NotFoundError:
        return None
    return entry.parent_take if entry.parent is not None else None


def reference_to(path: Path, *, session_id: str, locate: Locate) -> TranscriptReference:
    """A reference to every complete line of ``session_id``'s transcript, for its child."""
    try:
        entry = _resolve(path, locate)[-1]
    except NotFoundError:
        if path.exists():
            raise
        return TranscriptReference(session=session_id, lines=0, sha256=hashlib.sha256().hexdigest())
    return TranscriptReference(
        session=session_id, lines=entry.total, sha256=entry.digest.hexdigest()
    )


def torn_tail(path: Path, *, locate: Locate) -> int:
    """The bytes of the session's own unterminated last line that every read leaves out
    (an append a crash cut short); 0 when there is none."""
    try:
        return _resolve(path, locate)[-1].torn
    except NotFoundError:
        if path.exists():
            raise
        return 0


def transcript_segments(path: Path, *, locate: Locate) -> list[tuple[str, int, int]]:
    """(session id, first, end) of each session's stretch of the whole transcript."""
    chain = _resolve(path, locate)
    entry = chain[-1]
    segments: list[tuple[str, int, int]] = []
    for item in chain:
        kept = []
        for session, first, end in segments:
            if first < item.parent_take:
                kept.append((session, first, min(end, item.parent_take)))
        segments = kept
        start = item.parent_take
        end = start + len(item.own) + (1 if item is entry and item.tail is not None else 0)
        if end > start:
            segments.append((item.path.parent.name, start, end))
    return segments
