"""The append-only contents of one session: transcript, tickets, trace, workspace.

Only the worker holding the thread lock writes a running session, so sequence numbers
are kept here; tickets are still create-only, so even a confused second writer cannot
overwrite one.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from .atomic import append_line, canonical_json, create_only
from .clock import Clock, SystemClock, utc_iso
from .errors import AlreadyExistsError, CorruptRecordError
from .jsonl import read_jsonl

__all__ = ["INLINE_LIMIT", "SessionFiles"]

# Events larger than this go to logs/payloads/ and the trace keeps a reference with the
# hash: the trace never drops anything, it only moves big things beside itself.
INLINE_LIMIT = 4096


class SessionFiles:
    def __init__(self, directory: Path, *, clock: Clock | None = None) -> None:
        self.directory = directory
        self.clock = clock or SystemClock()
        self.session_id = directory.name
        # Counted on the first write, not here: most SessionFiles only read.
        self._trace_seq: int | None = None
        self._ticket_seq: int | None = None

    @property
    def transcript_path(self) -> Path:
        return self.directory / "transcript.jsonl"

    @property
    def trace_path(self) -> Path:
        return self.directory / "logs" / "trace.jsonl"

    @property
    def workspace(self) -> Path:
        return self.directory / "workspace"

    # transcript -----------------------------------------------------------------
    def append_transcript(self, record: dict[str, Any]) -> None:
        append_line(self.transcript_path, canonical_json({"schema_version": 1, **record}))

    def read_transcript(self) -> list[dict[str, Any]]:
        return list(read_jsonl(self.transcript_path))

    # tickets --------------------------------------------------------------------
    def ticket_names(self) -> list[str]:
        try:
            return sorted(n for n in os.listdir(self.directory / "tickets") if n.endswith(".json"))
        except FileNotFoundError:
            return []

    def write_ticket(self, kind: str, body: dict[str, Any]) -> str:
        """Create ``tickets/<seq>-<kind>.json``; never overwrites. Returns the file name."""
        record = {"schema_version": 1, "kind": kind, "at": utc_iso(self.clock.now()), **body}
        data = json.dumps(record, indent=2, sort_keys=True).encode()
        if self._ticket_seq is None:
            self._ticket_seq = len(self.ticket_names())
        while True:
            self._ticket_seq += 1
            name = f"{self._ticket_seq:06d}-{kind}.json"
            try:
                create_only(self.directory / "tickets" / name, data)
                return name
            except AlreadyExistsError:
                continue

    def read_tickets(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for name in self.ticket_names():
            path = self.directory / "tickets" / name
            try:
                record = json.loads(path.read_bytes())
            except json.JSONDecodeError as exc:
                raise CorruptRecordError(f"{path}: {exc}") from exc
            out.append({"file": name, **record})
        return out

    # trace ----------------------------------------------------------------------
    def trace(self, kind: str, data: dict[str, Any] | None = None) -> None:
        if self._trace_seq is None:
            self._trace_seq = sum(1 for _ in read_jsonl(self.trace_path))
        self._trace_seq += 1
        seq = self._trace_seq
        event: dict[str, Any] = {
            "schema_version": 1,
            "seq": seq,
            "at": utc_iso(self.clock.now()),
            "session": self.session_id,
            "kind": kind,
        }
        body = canonical_json(data or {})
        if len(body.encode()) > INLINE_LIMIT:
            payload_dir = self.directory / "logs" / "payloads"
            payload_dir.mkdir(exist_ok=True)
            name = f"{seq:06d}-{kind}.json"
            create_only(payload_dir / name, body.encode())
            event["payload_ref"] = f"payloads/{name}"
            event["payload_sha256"] = hashlib.sha256(body.encode()).hexdigest()
            event["payload_bytes"] = len(body.encode())
        else:
            event["data"] = data or {}
        append_line(self.trace_path, canonical_json(event))

    def read_trace(self, *, resolve_payloads: bool = True) -> list[dict[str, Any]]:
        events = list(read_jsonl(self.trace_path))
        if resolve_payloads:
            for event in events:
                ref = event.get("payload_ref")
                if isinstance(ref, str):
                    path = self.trace_path.parent / ref
                    event["data"] = json.loads(path.read_bytes())
        return events
