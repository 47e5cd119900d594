"""An optional state file: the workspace survives a restart of LocalSlack.

What a person would see in Slack is kept: channels and DMs (with members, topic and
purpose), user groups' members, every message with its thread summary, reactions, edits and metadata, ephemeral
messages, uploaded files (bytes as base64), published Home tabs, streamed messages' tasks and
chunks, and the last message timestamp, so new messages sort after the old ones whatever
the clock says. What only lives for seconds or minutes in Slack is not: sockets and
envelopes, trigger ids, response_urls, open modals, thread statuses, agent sessions, the API
call log. A stream still open when the state was saved comes back ended (``expired``), as
Slack ends streams their app abandoned.

The file is one JSON document, replaced atomically (temporary file, fsync, rename). It is
written shortly after changes (changes in one burst share a write) and on stop; it is read
once at start, before the server answers anything.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import json
import logging
import os
import stat
import tempfile
from pathlib import Path

from localslack.records import JSON, Channel, Ephemeral, StoredFile, ViewRecord
from localslack.runtime import Runtime
from localslack.streams import StreamRecord

__all__ = ["SCHEMA", "StateFile", "restore", "snapshot"]

log = logging.getLogger(__name__)

SCHEMA = "localslack-state/1"


def snapshot(rt: Runtime) -> JSON:
    ws = rt.workspace
    return {
        "schema": SCHEMA,
        "team_id": rt.config.team_id,
        "last_ts": ws.ts._last,
        "channels": [
            {**dataclasses.asdict(c), "members": sorted(c.members)} for c in ws.channels.values()
        ],
        "groups": [
            {"id": g.id, "members": list(g.members), "updated": g.updated}
            for g in ws.groups.values()
        ],
        "messages": {cid: ws.messages(cid) for cid in ws.channels},
        "ephemerals": [dataclasses.asdict(e) for e in ws.ephemerals if not e.deleted],
        "files": [_file_to_json(f) for f in ws.files.values() if f.completed],
        "home_views": [dataclasses.asdict(v) for v in ws.home_views.values()],
        "streams": [r.to_dict() for r in rt.streams.all()],
    }


def _file_to_json(stored: StoredFile) -> JSON:
    data = dataclasses.asdict(stored)
    content = data.pop("content")
    data["content_b64"] = None if content is None else base64.b64encode(content).decode()
    data["shares"] = [list(s) for s in stored.shares]
    return data


def _file_from_json(data: JSON) -> StoredFile:
    fields = {k: v for k, v in data.items() if k not in ("content_b64", "shares")}
    encoded = data.get("content_b64")
    return StoredFile(
        **fields,
        content=None if encoded is None else base64.b64decode(encoded),
        shares=[(str(c), str(t)) for c, t in data.get("shares", [])],
    )


def restore(rt: Runtime, data: JSON) -> None:
    """Load a snapshot into a fresh workspace. Channels in the snapshot replace the configured
    ones of the same id (members may have changed since); configured channels it lacks stay.
    So do user groups: the snapshot's members of a group still configured replace its own."""
    if not isinstance(data, dict):
        raise ValueError("not a LocalSlack state file (no JSON object)")
    if data.get("schema") != SCHEMA:
        raise ValueError(f"not a LocalSlack state file (schema {data.get('schema')!r})")
    if data.get("team_id") != rt.config.team_id:
        raise ValueError(f"state file is for team {data.get('team_id')}, not {rt.config.team_id}")
    ws = rt.workspace
    for item in data.get("channels", []):
        channel = Channel(**{**item, "members": set(item.get("members", []))})
        ws.channels[channel.id] = channel
    for item in data.get("groups", []):
        group = ws.groups.get(item.get("id"))
        if group is not None:  # a group no longer configured is gone, as a deleted one
            members = tuple(str(u) for u in item.get("members", []))
            ws.groups[group.id] = dataclasses.replace(
                group, members=members, updated=item.get("updated")
            )
    for channel_id, messages in data.get("messages", {}).items():
        for message in messages:
            ws.store(channel_id, message)
    ws.ephemerals.extend(Ephemeral(**item) for item in data.get("ephemerals", []))
    for item in data.get("files", []):
        stored = _file_from_json(item)
        ws.files[stored.id] = stored
    for item in data.get("home_views", []):
        view = ViewRecord(**item)
        ws.home_views[view.user] = view
    for item in data.get("streams", []):
        record = StreamRecord.from_dict(item)
        if record.state == "streaming":
            record.state, record.stopped_by = "stopped", "expired"
        rt.streams.records[(record.channel, record.ts)] = record
    # Timestamps stay strictly increasing across restarts, even with a clock set back.
    ws.ts._last = max(ws.ts._last, int(data.get("last_ts") or 0))


def _write_atomically(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _read_regular(path: Path) -> bytes:
    # Not blocking: a FIFO in the file's place would hang start-up past any SIGTERM.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError("not a regular file")
        with os.fdopen(os.dup(fd), "rb") as file:
            return file.read()
    finally:
        os.close(fd)


class StateFile:
    """Load at start, save `delay` seconds after a change and at stop."""

    def __init__(self, path: str | Path, rt: Runtime, *, delay: float = 0.2) -> None:
        self.path = Path(path)
        self._rt = rt
        self._delay = delay
        self._pending: asyncio.TimerHandle | None = None
        self._writing: asyncio.Task[None] | None = None
        self.writes = 0

    def load(self) -> bool:
        """Restore the workspace from the file; False when there is no file yet."""
        try:
            restore(self._rt, json.loads(_read_regular(self.path)))
        except FileNotFoundError:
            return False
        # AttributeError: a part of the wrong kind (a list where an object belongs).
        except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            raise ValueError(
                f"cannot restore the workspace from {self.path}: {exc} "
                "(move the file away to start with an empty workspace)"
            ) from exc
        log.info("localslack: workspace restored from %s", self.path)
        return True

    def changed(self, revision: int = 0) -> None:
        if self._pending is None:
            loop = asyncio.get_running_loop()
            self._pending = loop.call_later(self._delay, self._start_write)

    def _start_write(self) -> None:
        self._pending = None
        if self._writing is not None and not self._writing.done():
            self.changed()  # one write at a time; this change gets the next one
            return
        self._writing = asyncio.ensure_future(self._write())

    def _encode(self) -> bytes:
        return json.dumps(snapshot(self._rt), ensure_ascii=False, separators=(",", ":")).encode()

    async def _write(self) -> None:
        # Encoded on the loop (a consistent view of the workspace), written off it.
        payload = self._encode()
        try:
            await asyncio.to_thread(_write_atomically, self.path, payload)
            self.writes += 1
        except OSError:
            log.exception("localslack: could not write the state file %s", self.path)

    async def flush(self) -> None:
        """Write now (and wait for a write in progress): used at stop."""
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        if self._writing is not None:
            await asyncio.gather(self._writing, return_exceptions=True)
        _write_atomically(self.path, self._encode())
        self.writes += 1
