"""The append-only contents of one session: transcript, tickets, trace, workspace.

Only the worker holding the thread lock writes a running session, so sequence numbers
are kept here. Tickets are appended to one ``tickets.jsonl`` (one file per ticket cost
an inode and a directory fsync each); an append never overwrites, so even a confused
second writer cannot erase one. Sessions written before hold ``tickets/<seq>-<kind>.json``
files, still read. The transcript is a chain of references (``transcript_chain``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .atomic import Appender, append_line, canonical_json, fsync_dir, read_file
from .clock import Clock, SystemClock, utc_iso
from .errors import CorruptRecordError
from .home import home_of_session
from .jsonl import read_jsonl
from .tickets import IntentTicket, ResultTicket, Ticket, ticket_adapter
from .trace import INLINE_LIMIT, TraceEvent, TraceKind
from .transcript_chain import (
    Locate,
    inherited_lines,
    read_chain,
    reference_to,
    torn_tail,
    transcript_segments,
)
from .transcript_reference import TranscriptReference

__all__ = ["INLINE_LIMIT", "SessionFiles"]

# What ``trace`` names a payload: its sequence number and kind, in the session's payloads/.
_PAYLOAD_REF = re.compile(r"payloads/[0-9]{6,}-[a-z_]+\.json")


class SessionFiles:
    def __init__(self, directory: Path, *, clock: Clock | None = None) -> None:
        self.directory = directory
        self.clock = clock or SystemClock()
        self.session_id = directory.name
        # Where a referenced parent lives: found the way its home finds any session (it
        # may sit in another shard).
        self.locate: Locate = home_of_session(directory).session_dir
        # Counted on the first write, not here: most SessionFiles only read.
        self._trace_seq: int | None = None
        self._trace_out: Appender | None = None  # open from the first event on

    @property
    def transcript_path(self) -> Path:
        return self.directory / "transcript.jsonl"

    @property
    def tickets_path(self) -> Path:
        return self.directory / "tickets.jsonl"

    @functools.cached_property
    def trace_path(self) -> Path:
        # Sessions from before kept it in logs/ (one directory more per session).
        legacy = self.directory / "logs" / "trace.jsonl"
        return legacy if legacy.exists() else self.directory / "trace.jsonl"

    @property
    def workspace(self) -> Path:
        return self.directory / "workspace"

    def now(self) -> str:
        return utc_iso(self.clock.now())

    # transcript -----------------------------------------------------------------
    def append_transcript(self, record: dict[str, Any]) -> None:
        append_line(self.transcript_path, canonical_json({"schema_version": 1, **record}))

    def read_transcript(self) -> list[dict[str, Any]]:
        """The whole transcript, following references to ancestors (each link checked)."""
        return read_chain(self.transcript_path, locate=self.locate)

    def transcript_reference(self) -> TranscriptReference:
        """What a child of this session starts its transcript with instead of a copy."""
        return reference_to(self.transcript_path, session_id=self.session_id, locate=self.locate)

    def torn_tail(self) -> int:
        """Bytes of an unterminated last transcript line that reads leave out (0: none)."""
        return torn_tail(self.transcript_path, locate=self.locate)

    def transcript_segments(self) -> list[tuple[str, int, int]]:
        """Which session holds which records: (session id, first index, end index)."""
        return transcript_segments(self.transcript_path, locate=self.locate)

    def inherited_lines(self) -> int | None:
        """How many transcript records precede this session's own; None for a full copy."""
        return inherited_lines(self.transcript_path, locate=self.locate)

    # tickets --------------------------------------------------------------------
    def _legacy_ticket_names(self) -> list[str]:
        try:
            return sorted(n for n in os.listdir(self.directory / "tickets") if n.endswith(".json"))
        except FileNotFoundError:
            return []

    def write_ticket(self, ticket: IntentTicket | ResultTicket) -> str:
        """Append the ticket to ``tickets.jsonl`` and fsync it; returns ``<seq>-<kind>``.

        The sequence is counted from the file each time (a session has a handful of
        tickets), so two writers in turn never reuse a number.
        """
        lines = sum(1 for _ in read_jsonl(self.tickets_path))
        seq = len(self._legacy_ticket_names()) + lines + 1
        line = canonical_json({"seq": seq, **ticket.model_dump(mode="json")})
        append_line(self.tickets_path, line)
        if lines == 0:
            # The first ticket (may have) made the file: its name must be as durable as its
            # line (an intent lost to a power cut would let its call run again).
            fsync_dir(self.directory)
        return f"{seq:06d}-{ticket.kind}"

    def read_tickets(self) -> list[Ticket]:
        """Every ticket in the order written; a torn last line (a crash) is not a ticket."""
        out: list[Ticket] = []
        for name in self._legacy_ticket_names():
            path = self.directory / "tickets" / name
            try:
                out.append(ticket_adapter.validate_json(path.read_bytes()))
            except (ValidationError, ValueError) as exc:
                raise CorruptRecordError(f"{path}: not a ticket") from exc
        for number, raw in enumerate(read_jsonl(self.tickets_path), start=1):
            body = {k: v for k, v in raw.items() if k != "seq"}
            try:
                out.append(ticket_adapter.validate_python(body))
            except ValidationError as exc:
                raise CorruptRecordError(f"{self.tickets_path}:{number}: not a ticket") from exc
        return out

    # trace ----------------------------------------------------------------------
    def trace(self, kind: TraceKind, data: dict[str, Any] | None = None) -> None:
        """Append an event. It never waits for the disk (nothing is fsynced here), so the
        event loop may call it directly."""
        if self._trace_seq is None:
            self._trace_seq = sum(1 for _ in read_jsonl(self.trace_path, unsynced=True))
        self._trace_seq += 1
        seq = self._trace_seq
        body = canonical_json(data or {}).encode()
        extra: dict[str, Any] = {"data": data or {}}
        if len(body) > INLINE_LIMIT:
            payload_dir = self.trace_path.parent / "payloads"
            payload_dir.mkdir(exist_ok=True)
            name = f"{seq:06d}-{kind}.json"
            # Like the line, flushed by the seal. A leftover of this name is from a crash
            # before its line was written: nothing refers to it, so it is overwritten.
            (payload_dir / name).write_bytes(body)
            extra = {
                "payload_ref": f"payloads/{name}",
                "payload_sha256": hashlib.sha256(body).hexdigest(),
                "payload_bytes": len(body),
            }
        event = TraceEvent(seq=seq, at=self.now(), session=self.session_id, kind=kind, **extra)
        # Not fsynced line by line: the trace tells what the durable records did, and a
        # session's seal flushes it (a power cut may cut a running session's last lines).
        # One write per event on a descriptor kept open: the event loop writes it.
        if self._trace_out is None:
            self._trace_out = Appender(self.trace_path)
        try:
            self._trace_out.append(event.model_dump_json(exclude_none=True).encode())
        except OSError:
            # A full disk may have torn it: the next event reopens and ends the torn bytes.
            self.close_trace()
            raise

    def close_trace(self) -> None:
        """Let the trace's descriptor go (the session ended; a later event reopens it)."""
        if self._trace_out is not None:
            out, self._trace_out = self._trace_out, None
            out.close()

    def read_trace(self, *, resolve_payloads: bool = True) -> list[TraceEvent]:
        events: list[TraceEvent] = []
        for raw in read_jsonl(self.trace_path, unsynced=True):
            try:
                event = TraceEvent.model_validate(raw)
            except ValidationError as exc:
                raise CorruptRecordError(f"{self.trace_path}: not a trace event") from exc
            if resolve_payloads and event.payload_ref:
                data = self._payload(event.payload_ref)
                if data is not None:
                    event = event.model_copy(update={"data": data})
            events.append(event)
        return events

    def _payload(self, ref: str) -> dict[str, Any] | None:
        """An event's payload; None when a power cut lost or tore it (it is written without
        a sync, like the line, and its line may reach the disk first): the event is still
        read, without its data, as a torn line is skipped."""
        if not _PAYLOAD_REF.fullmatch(ref):
            # Not a name ``trace`` gives: a tampered line (the seal says so) naming a path
            # anywhere, /dev/zero or a FIFO, which would be read or waited on for ever.
            return None
        try:
            data = json.loads(read_file(self.trace_path.parent / ref))
        except (OSError, ValueError):  # ValueError: bad JSON or bad UTF-8
            return None  # OSError: gone, or no regular file (a tampered one, as above)
        return data if isinstance(data, dict) else None
