"""Streamed messages (`chat.startStream` / `appendStream` / `stopStream`).

A stream is a bot message that grows: its ``text`` is the markdown received so far, and it
stays in the streaming state until the app stops it (``stopStream``) or a person stops the
agent session in its thread. Once the app stopped it, appending or stopping answers
``message_not_in_streaming_state``. A stream a person stopped grows no more (appending
answers that error) but the app still ends it, once, with ``stopStream``: Slack's reference
for ``agent_session_stopped`` has the app move the session on "using either
agents.sessions.setStatus or chat.stopStream" on the streams it lists, and Slack's agent
design guidance ends a stopped run's stream (its steps' last states, its plan titled
"Stopped"). Besides ``markdown_text``, calls carry ``chunks``:
``markdown_text`` (more text), ``task_update`` (a tool call or step: ``id``, ``title``,
``status`` pending/in_progress/complete/error, optional ``details``, ``output``,
``sources``; later updates to the same id merge, except that new ``details`` are added
to the earlier ones, with no separator, as Slack's agent guidance warns: "Send a task's
details once"), ``plan_update`` (the plan's ``title``)
and ``blocks`` (Block Kit). A ``task_update``'s ``details`` and ``output`` and a
``plan_update``'s ``title`` hold 256 characters at most (Slack's guidance: "Each
``task_update`` and ``plan_update`` chunk is limited to 256 characters"; Slack names no
error for more, so ``invalid_arguments`` is localslack's). The record keeps every call's chunks in order (the chunk history
tests read) and the merged tasks (what the browser shows). No events are sent while a message
streams (Slack documents none).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Literal

from localslack.blockkit import validate_blocks
from localslack.errors import SlackError
from localslack.ids import Clock
from localslack.records import JSON
from localslack.watch import MessageWatch

__all__ = [
    "DISPLAY_MODES",
    "MAX_CHUNK_FIELD",
    "MAX_MARKDOWN",
    "TASK_STATUSES",
    "StreamRecord",
    "Streams",
    "check_chunks",
    "check_markdown",
]

MAX_MARKDOWN = 12_000
MAX_CHUNK_FIELD = 256
TASK_STATUSES = ("pending", "in_progress", "complete", "error")
DISPLAY_MODES = ("timeline", "plan")
_CHUNK_TYPES = ("markdown_text", "task_update", "plan_update", "blocks")


def _invalid(messages: list[str]) -> SlackError:
    return SlackError("invalid_arguments", extra={"response_metadata": {"messages": messages}})


def check_markdown(text: Any, pointer: str = "/markdown_text") -> str:
    if not isinstance(text, str):
        raise _invalid([f"[ERROR] must be a string [json-pointer:{pointer}]"])
    if len(text) > MAX_MARKDOWN:
        raise _invalid(
            [f"[ERROR] must be less than {MAX_MARKDOWN + 1} characters [json-pointer:{pointer}]"]
        )
    return text


def check_chunks(chunks: Any) -> list[JSON]:
    """`chunks` as Slack's schema has them; errors come back as `invalid_arguments`."""
    if not isinstance(chunks, list):
        raise _invalid(["[ERROR] must provide an array [json-pointer:/chunks]"])
    errors: list[str] = []
    for i, chunk in enumerate(chunks):
        at = f"/chunks/{i}"
        kind = chunk.get("type") if isinstance(chunk, dict) else None
        if kind not in _CHUNK_TYPES:
            errors.append(f"[ERROR] unsupported type: {kind} [json-pointer:{at}/type]")
            continue
        assert isinstance(chunk, dict)
        if kind == "markdown_text":
            check_markdown(chunk.get("text"), f"{at}/text")
        elif kind == "task_update":
            for key in ("id", "title"):
                if not isinstance(chunk.get(key), str) or not chunk[key]:
                    errors.append(f"[ERROR] missing required field: {key} [json-pointer:{at}]")
            if chunk.get("status") not in TASK_STATUSES:
                errors.append(
                    f"[ERROR] must be one of {', '.join(TASK_STATUSES)} [json-pointer:{at}/status]"
                )
            errors.extend(_short(chunk, ("details", "output"), at))
        elif kind == "plan_update":
            if not isinstance(chunk.get("title"), str) or not chunk["title"]:
                errors.append(f"[ERROR] missing required field: title [json-pointer:{at}]")
            else:
                errors.extend(_short(chunk, ("title",), at))
        elif not isinstance(chunk.get("blocks"), list):
            errors.append(f"[ERROR] must provide an array [json-pointer:{at}/blocks]")
        else:
            errors.extend(validate_blocks(chunk["blocks"], pointer=f"{at}/blocks"))
    if errors:
        raise _invalid(errors)
    return copy.deepcopy(chunks)


def _short(chunk: JSON, keys: tuple[str, ...], at: str) -> list[str]:
    errors = []
    for key in keys:
        value = chunk.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            errors.append(f"[ERROR] must be a string [json-pointer:{at}/{key}]")
        elif len(value) > MAX_CHUNK_FIELD:
            errors.append(
                f"[ERROR] must be less than {MAX_CHUNK_FIELD + 1} characters "
                f"[json-pointer:{at}/{key}]"
            )
    return errors


@dataclass
class StreamRecord:
    channel: str
    ts: str
    thread_ts: str | None
    display_mode: str
    recipient_user_id: str | None
    recipient_team_id: str | None
    started_at: float
    state: Literal["streaming", "stopped"] = "streaming"
    # app: chat.stopStream; user: a person stopped the agent; expired: abandoned (restart).
    stopped_by: Literal["app", "user", "expired"] | None = None
    stopped_at: float | None = None
    # The app ended it with chat.stopStream (after a person's stop too): nothing more lands.
    ended: bool = False
    text: str = ""
    plan_title: str | None = None
    tasks: dict[str, JSON] = field(default_factory=dict)
    blocks: list[JSON] = field(default_factory=list)
    # One entry per call: {"method", "at", "markdown_text", "chunks"}.
    calls: list[JSON] = field(default_factory=list)

    def apply(self, *, method: str, at: float, markdown: str | None, chunks: list[JSON]) -> None:
        self.calls.append(
            {"method": method, "at": at, "markdown_text": markdown, "chunks": copy.deepcopy(chunks)}
        )
        if markdown:
            self.text += markdown
        for chunk in chunks:
            kind = chunk["type"]
            if kind == "markdown_text":
                self.text += chunk["text"]
            elif kind == "task_update":
                before = self.tasks.get(chunk["id"], {})
                merged = {**before, **chunk}
                if "details" in before and "details" in chunk:
                    merged["details"] = before["details"] + chunk["details"]
                self.tasks[chunk["id"]] = merged
            elif kind == "plan_update":
                self.plan_title = chunk["title"]
            else:
                self.blocks.extend(copy.deepcopy(chunk["blocks"]))

    def to_dict(self) -> JSON:
        return {
            "kind": "stream",
            "channel": self.channel,
            "ts": self.ts,
            "thread_ts": self.thread_ts,
            "state": self.state,
            "stopped_by": self.stopped_by,
            "started_at": self.started_at,
            "stopped_at": self.stopped_at,
            "ended": self.ended,
            "display_mode": self.display_mode,
            "recipient_user_id": self.recipient_user_id,
            "recipient_team_id": self.recipient_team_id,
            "text": self.text,
            "plan_title": self.plan_title,
            "tasks": [copy.deepcopy(t) for t in self.tasks.values()],
            "chunk_blocks": copy.deepcopy(self.blocks),
            "calls": copy.deepcopy(self.calls),
        }

    @classmethod
    def from_dict(cls, data: JSON) -> StreamRecord:
        record = cls(
            channel=data["channel"],
            ts=data["ts"],
            thread_ts=data.get("thread_ts"),
            display_mode=data.get("display_mode", "timeline"),
            recipient_user_id=data.get("recipient_user_id"),
            recipient_team_id=data.get("recipient_team_id"),
            started_at=float(data.get("started_at") or 0),
            state=data.get("state", "stopped"),
            stopped_by=data.get("stopped_by"),
            stopped_at=data.get("stopped_at"),
            # Records saved before the field: a stream stopped then was ended for good.
            ended=bool(data.get("ended", data.get("state", "stopped") == "stopped")),
            text=data.get("text", ""),
            plan_title=data.get("plan_title"),
            blocks=list(data.get("chunk_blocks") or []),
            calls=list(data.get("calls") or []),
        )
        record.tasks = {t["id"]: t for t in data.get("tasks") or [] if isinstance(t, dict)}
        return record


class Streams:
    def __init__(self, *, clock: Clock, watch: MessageWatch) -> None:
        self._clock = clock
        self._watch = watch
        self.records: dict[tuple[str, str], StreamRecord] = {}

    def changed(self, record: StreamRecord) -> None:
        self._watch.publish(record.to_dict())

    def start(self, record: StreamRecord) -> None:
        self.records[(record.channel, record.ts)] = record
        self.changed(record)

    def streaming(self, *, channel: str, ts: str) -> StreamRecord:
        """The record of a message that is still streaming, or Slack's error."""
        record = self.records.get((channel, ts))
        if record is None or record.state != "streaming":
            raise SlackError("message_not_in_streaming_state")
        return record

    def ending(self, *, channel: str, ts: str) -> StreamRecord:
        """The record ``chat.stopStream`` may end: one streaming, or one a person stopped
        that the app has not ended yet; else Slack's error."""
        record = self.records.get((channel, ts))
        if record is not None and record.stopped_by == "user" and not record.ended:
            return record
        return self.streaming(channel=channel, ts=ts)

    def stop(self, record: StreamRecord, *, by: Literal["app", "user"]) -> None:
        if record.state == "streaming":  # a person's stop stays who stopped it
            record.state = "stopped"
            record.stopped_by = by
            record.stopped_at = self._clock()
        record.ended = by == "app"
        self.changed(record)

    def in_thread(self, *, channel: str, thread_ts: str) -> list[StreamRecord]:
        return [
            r
            for r in self.records.values()
            if r.channel == channel and r.thread_ts == thread_ts and r.state == "streaming"
        ]

    def get(self, *, channel: str, ts: str) -> StreamRecord | None:
        return self.records.get((channel, ts))

    def all(self, *, channel: str | None = None) -> list[StreamRecord]:
        return [r for r in self.records.values() if channel in (None, r.channel)]
