"""Quarantine: what arrived for signoff but can never be processed, kept for a person.

Redelivery cannot repair a malformed payload, so it is acked; so that acking it loses
nothing, the raw payload is kept here with the reason and the time, one create-only file
per item, sharded by UTC day so no directory grows without bound::

    quarantine/2026-11-02/091503123456-quar_0123456789abcdef.json

A day holds at most ``daily_limit`` items: a storm of bad input cannot fill the disk,
and what is past the limit is only logged. Files are written with every non-ASCII
character escaped, so a payload that is not valid Unicode (a lone surrogate) is kept
exactly as it came. What names the thing kept (an event's id, its message's place) is
marked beside it, so that the same thing delivered again, even to the next process, is
found kept (``kept_as``) instead of kept twice::

    quarantine/keys/2026-11-02/<32 hex: the name's SHA-256>   (holds the record's id)

Only today's and yesterday's marks are read; the writes that follow remove older ones,
``PRUNE_BATCH`` at a time, so the marks of a home stay about two days' worth.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import re
import secrets
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import JsonValue, ValidationError

from .atomic import NotRegularFileError, create_only, read_file
from .clock import Clock, utc_iso
from .errors import AlreadyExistsError, CorruptRecordError, InvalidIdError, NotFoundError
from .home import Home
from .ids import check_quarantine_id
from .records import Record

__all__ = ["Quarantine", "QuarantineRecord"]

# A payload bigger than this is kept as a prefix of its JSON text (Slack's own envelopes
# are far smaller; this bounds what one bad frame can cost on disk).
MAX_PAYLOAD_BYTES = 256 * 1024
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# The most marks one write removes of the days no lookup reads any more: a write never
# stalls on a day of thousands, and each removes more than it adds, so they run out.
PRUNE_BATCH = 256


class QuarantineRecord(Record):
    schema_version: Literal[1] = 1
    id: str
    at: str
    # Where it came from: the Socket Mode envelope type (events_api, interactive, ...).
    source: str
    reason: str
    # The payload's own event id when it had one (kept as given: it may be malformed).
    event_id: str = ""
    payload: JsonValue = None
    # The payload's size as JSON; when over MAX_PAYLOAD_BYTES, ``payload`` is None and
    # ``excerpt`` holds the start of its JSON text.
    size: int = 0
    excerpt: str = ""


def _encode(value: Any) -> str:
    # ASCII-only JSON: lone surrogates survive as \ud800 escapes; NaN is not JSON.
    return json.dumps(value, ensure_ascii=True, allow_nan=False, sort_keys=True)


def _digest(key: str) -> str:
    # A key holds what Slack sent (any text, any length): its file is named by its hash.
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _describe(payload: object) -> str:
    # Not JSON (NaN, a structure nested past the recursion limit): keep what repr shows.
    try:
        return repr(payload)
    except RecursionError:
        return f"<{type(payload).__name__} nested too deeply to show>"


class Quarantine:
    def __init__(self, home: Home, *, clock: Clock, daily_limit: int = 10_000) -> None:
        self.root = home.quarantine_dir
        self.clock = clock
        self.daily_limit = daily_limit
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        # The oldest day ``kept_as`` reads when no mark before it was left (None: not
        # looked yet), so a write lists the marks' days once a day, not each time.
        self._marks_clean_from: str | None = None

    def put(
        self,
        *,
        source: str,
        reason: str,
        payload: object,
        event_id: str = "",
        keys: Sequence[str] = (),
    ) -> QuarantineRecord | None:
        """Keep ``payload`` durably, marked with ``keys`` (what names it); None when
        today's shard is full (the caller logs it).

        Raises OSError when the disk refuses: that is a temporary failure, and the caller
        leaves the envelope unacked.
        """
        now = self.clock.now()
        day = now.strftime("%Y-%m-%d")
        if not self._reserve(day):
            return None
        try:
            record = self._write(
                now, day, source=source, reason=reason, payload=payload, event_id=event_id
            )
        except BaseException:
            # Nothing was kept, so its place is free again (a file left by a failed
            # directory fsync is counted when the shard is next listed, at a restart).
            with self._lock:
                self._counts[day] -= 1
            raise
        # After the record, never before: a mark without its record would make the next
        # copy a duplicate of nothing, acked and lost. A mark the disk refuses (or a crash
        # before it) costs at most a second record of the same thing.
        with contextlib.suppress(OSError):
            marks = self.root / "keys" / day
            if keys:
                marks.mkdir(parents=True, exist_ok=True)
            for key in keys:
                with contextlib.suppress(AlreadyExistsError):
                    create_only(marks / _digest(key), record.id.encode("ascii"))
        self._prune_marks(now)
        return record

    def _prune_marks(self, now: datetime) -> None:
        """Remove up to ``PRUNE_BATCH`` marks of the days before yesterday, which
        ``kept_as`` no longer reads, and each day's directory once it is empty: kept, they
        made a directory a day without end. Only marks: the records are for a person."""
        oldest_read = (now - timedelta(days=1)).strftime("%Y-%m-%d")
        if self._marks_clean_from == oldest_read:
            return
        keys = self.root / "keys"
        try:
            stale = sorted(d for d in os.listdir(keys) if _DAY.fullmatch(d) and d < oldest_read)
        except OSError:
            return  # no marks yet (or none readable): nothing this write can do
        budget, clean = PRUNE_BATCH, True
        for day in stale:
            directory = keys / day
            try:
                with os.scandir(directory) as entries:
                    names = [e.name for e in itertools.islice(entries, budget)]
                for name in names:
                    with contextlib.suppress(FileNotFoundError):  # another process's prune
                        os.unlink(directory / name)
                budget -= len(names)
                os.rmdir(directory)
            except FileNotFoundError:
                continue  # pruned by another process meanwhile
            except OSError:
                clean = False  # not empty yet (the budget ran out), or not ours to remove
            if budget == 0:
                return
        if clean:
            self._marks_clean_from = oldest_read

    def kept_as(self, keys: Sequence[str]) -> str | None:
        """The id of the record marked with one of ``keys`` today or yesterday (Slack
        delivers again within minutes; a day's turn may fall between), if any."""
        now = self.clock.now()
        days = [now.strftime("%Y-%m-%d"), (now - timedelta(days=1)).strftime("%Y-%m-%d")]
        for day in days:
            for key in keys:
                try:
                    return check_quarantine_id(
                        (self.root / "keys" / day / _digest(key)).read_text("ascii").strip()
                    )
                except (OSError, UnicodeDecodeError, InvalidIdError):
                    # Not marked, or a mark that cannot be read: kept twice at worst.
                    continue
        return None

    def _write(
        self, now: datetime, day: str, *, source: str, reason: str, payload: object, event_id: str
    ) -> QuarantineRecord:
        try:
            text = _encode(payload)
            kept: Any = payload
        except (TypeError, ValueError, RecursionError):
            text, kept = _describe(payload), None
        excerpt = ""
        if len(text) > MAX_PAYLOAD_BYTES or kept is None:
            kept, excerpt = None, text[: MAX_PAYLOAD_BYTES // 4]
        fields: dict[str, Any] = {
            "id": f"quar_{secrets.token_hex(8)}",
            "at": utc_iso(now),
            "source": source[:64],
            "reason": reason[:1000],
            "event_id": event_id[:128],
            "size": len(text),
        }
        try:
            record = QuarantineRecord(**fields, payload=kept, excerpt=excerpt)
        except ValidationError:
            # JSON nests deeper than the model validates (pydantic stops at a depth
            # json does not): kept as its text, like a payload too big to keep whole.
            record = QuarantineRecord(**fields, excerpt=text[: MAX_PAYLOAD_BYTES // 4])
        directory = self.root / day
        directory.mkdir(parents=True, exist_ok=True)
        name = f"{now.strftime('%H%M%S%f')}-{record.id}.json"
        create_only(directory / name, _encode(record.model_dump()).encode("ascii"))
        return record

    def _reserve(self, day: str) -> bool:
        with self._lock:
            count = self._counts.get(day)
            if count is None:
                try:
                    count = len(os.listdir(self.root / day))
                except FileNotFoundError:
                    count = 0
            if count >= self.daily_limit:
                self._counts[day] = count
                return False
            self._counts[day] = count + 1
            return True

    def records(
        self,
        *,
        day: str | None = None,
        on_corrupt: Callable[[CorruptRecordError], None] | None = None,
    ) -> Iterator[QuarantineRecord]:
        """Newest first; only ``day`` (YYYY-MM-DD) when given. A file that is not a
        record raises, or with ``on_corrupt`` is handed to it and skipped."""
        for path in self._paths(day):
            try:
                yield self._read(path)
            except CorruptRecordError as exc:
                if on_corrupt is None:
                    raise
                on_corrupt(exc)

    def get(self, record_id: str) -> QuarantineRecord:
        record_id = check_quarantine_id(record_id)
        for path in self._paths(None):
            if path.name.endswith(f"-{record_id}.json"):
                return self._read(path)
        raise NotFoundError(f"no quarantined item {record_id}")

    def _paths(self, day: str | None) -> Iterator[Path]:
        try:
            days = sorted((d for d in os.listdir(self.root) if _DAY.fullmatch(d)), reverse=True)
        except FileNotFoundError:
            return
        for name in days:
            if day is not None and name != day:
                continue
            directory = self.root / name
            files = [f for f in os.listdir(directory) if f.endswith(".json")]
            for file in sorted(files, reverse=True):
                yield directory / file

    @staticmethod
    def _read(path: Path) -> QuarantineRecord:
        try:
            # A FIFO by its name is refused (read, it waits for a writer for ever).
            raw = read_file(path)
        except (IsADirectoryError, NotRegularFileError) as exc:
            raise CorruptRecordError(f"{path}: not a quarantine record ({exc.strerror})") from exc
        try:
            # json.loads, not pydantic's parser: the escapes of a lone surrogate must load.
            return QuarantineRecord.model_validate(json.loads(raw))
        except (ValidationError, ValueError) as exc:
            raise CorruptRecordError(f"{path}: not a quarantine record") from exc
