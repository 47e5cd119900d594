"""A transcript file read: its reference record, if any, and its own records.

A child's ``transcript.jsonl`` starts with one reference record::

    {"continues":{"lines":N,"session":"sess_…","sha256":"…"},"schema_version":1}

meaning "before my own lines come the first N lines of that session's transcript, whose
bytes (each line newline-terminated, as a full copy would hold them) hash to sha256".
Here is that record, written and parsed, and a file split around it as ``read_jsonl``
reads; following the references and checking their hashes is ``transcript_chain``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .atomic import canonical_json
from .errors import CorruptRecordError

__all__ = ["REFERENCE_VERSION", "TranscriptReference", "first_reference", "split_transcript"]

REFERENCE_VERSION = 1


@dataclass(frozen=True)
class TranscriptReference:
    session: str
    lines: int
    sha256: str

    def line(self) -> str:
        body = {"lines": self.lines, "session": self.session, "sha256": self.sha256}
        return canonical_json({"continues": body, "schema_version": REFERENCE_VERSION})


def _parse_reference(path: Path, record: dict[str, Any]) -> TranscriptReference:
    if record.get("schema_version") != REFERENCE_VERSION:
        raise CorruptRecordError(f"{path}:1: unknown reference version")
    body = record.get("continues")
    try:
        if not isinstance(body, dict):
            raise TypeError("continues is not an object")
        ref = TranscriptReference(
            session=str(body["session"]), lines=int(body["lines"]), sha256=str(body["sha256"])
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CorruptRecordError(f"{path}:1: not a transcript reference") from exc
    if ref.lines < 0 or "/" in ref.session or not ref.session.startswith("sess_"):
        raise CorruptRecordError(f"{path}:1: not a transcript reference")
    return ref


def split_transcript(
    path: Path, raw: bytes
) -> tuple[TranscriptReference | None, list[bytes], Any, int]:
    """(reference, complete record lines, parsed unterminated tail, bytes of an
    unterminated last line left out) as ``read_jsonl`` reads."""
    parts = raw.split(b"\n")
    complete, tail_bytes = parts[:-1], parts[-1]
    ref: TranscriptReference | None = None
    own: list[bytes] = []
    for number, line in enumerate(complete, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CorruptRecordError(f"{path}:{number}: {exc}") from exc
        if not isinstance(record, dict):
            continue
        if "continues" in record and "role" not in record:
            if number != 1:
                raise CorruptRecordError(f"{path}:{number}: a reference after line 1")
            ref = _parse_reference(path, record)
            continue
        own.append(line)
    tail = None
    if tail_bytes.strip():
        try:
            parsed = json.loads(tail_bytes)
        except (json.JSONDecodeError, UnicodeDecodeError):  # cut inside a character too
            parsed = None  # torn by a crash mid-append: never acted on, so skipped
        if isinstance(parsed, dict) and "continues" not in parsed:
            tail = parsed
    # What was left out, for ``signoff show`` to say: a person reads it to see everything.
    torn = len(tail_bytes) if tail is None and tail_bytes.strip() else 0
    return ref, own, tail, torn


def first_reference(path: Path, raw: bytes) -> TranscriptReference | None:
    """The reference on ``raw``'s first line, if any; the rest is not parsed (a walk up the
    chain needs only the links)."""
    first, newline, _ = raw.partition(b"\n")
    if not newline or b'"continues"' not in first:
        return None
    ref, _, _, _ = split_transcript(path, first + b"\n")
    return ref
