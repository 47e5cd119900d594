"""Helpers for engine tests (imported by test modules; not a test module itself)."""

from __future__ import annotations

import asyncio
import errno
import io
import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent_core.engine import Engine
from agent_core.messages import Message, UserMessage, message_adapter
from agent_core.model import ModelReply, RawToolCall, TextSink, ToolSpec
from agent_core.surface import RecordingSurface
from approvals import Decision, EditRecorded
from sessions import (
    Home,
    InboxMessage,
    OutboxDone,
    OutboxStore,
    SessionFiles,
    SessionStore,
    ThreadDir,
    ThreadKey,
    lineage,
    utc_iso,
)

# The ``make_engine`` fixture of tests/conftest.py: ``await make_engine(model, registry, **options)``.
EngineFactory = Callable[..., Awaitable[Engine]]

THREAD = ThreadKey(team="T0LOCAL", channel="C0OPS", thread_ts="1700000000.000100")

# The index's tables as signoff created them before sessions and threads were WITHOUT
# ROWID: an index of that shape must keep working.
OLD_INDEX_SHAPE = """
CREATE TABLE threads (team TEXT NOT NULL, channel TEXT NOT NULL,
  thread_ts TEXT NOT NULL, head TEXT, updated_at TEXT NOT NULL,
  PRIMARY KEY (team, channel, thread_ts));
CREATE TABLE sessions (id TEXT PRIMARY KEY, parent_id TEXT, team TEXT NOT NULL,
  channel TEXT NOT NULL, thread_ts TEXT NOT NULL, state TEXT NOT NULL,
  cause TEXT NOT NULL, reason TEXT NOT NULL, created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL);
"""


def message(
    text: str, *, ts: str, user: str = "U0ALICE", thread: ThreadKey = THREAD
) -> InboxMessage:
    return InboxMessage(
        thread=thread,
        ts=ts,
        user=user,
        text=text,
        received_at=utc_iso(datetime(2026, 11, 2, 9, 0, tzinfo=UTC)),
        event_id=f"Ev{ts.replace('.', '')}",
    )


def call(name: str, arguments: Any, call_id: str = "call_1", text: str = "") -> ModelReply:
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return ModelReply(
        text=text,
        tool_calls=(RawToolCall(id=call_id, name=name, arguments=raw),),
        stop_reason="tool_use",
    )


def text(value: str) -> ModelReply:
    return ModelReply(text=value, stop_reason="end_turn")


def head(home: Home, thread: ThreadKey = THREAD) -> str:
    value = ThreadDir(home, thread).head()
    assert value is not None
    return value


def chain(home: Home, thread: ThreadKey = THREAD) -> list[Any]:
    return lineage(SessionStore(home), head(home, thread))


def transcript(home: Home, session_id: str | None = None) -> list[Any]:
    sid = session_id or head(home)
    files = SessionFiles(home.session_dir(sid))
    return [message_adapter.validate_python(m) for m in files.read_transcript()]


def user_ts(home: Home) -> list[str]:
    return [m.ts for m in transcript(home) if isinstance(m, UserMessage)]


def fleet(home: Home) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((home.root / "fleet.json").read_text())
    return data


def restarts(home: Home, service: str = "api") -> int:
    try:
        return int(fleet(home)["services"][service]["restarts"])
    except FileNotFoundError:
        return 0


def replies(surface: RecordingSurface) -> list[str]:
    return [t for _, t in surface.replies]


def record_path(session_dir: Path, approval_id: str, suffix: str) -> Path:
    """Where an approval's record lives (the documented layout, docs/storage.md)."""
    return session_dir / "approvals" / f"{approval_id}.{suffix}.json"


def load_decision(session_dir: Path, approval_id: str) -> Decision | None:
    path = record_path(session_dir, approval_id, "decision")
    return Decision.model_validate_json(path.read_bytes()) if path.exists() else None


class RecordingSink:
    """A ``TextSink`` that records what a model streams, and each restart, in order."""

    def __init__(self) -> None:
        self.events: list[str] = []

    async def text(self, delta: str) -> None:
        self.events.append(delta)

    async def restart(self) -> None:
        self.events.append("<restart>")

    @property
    def text_now(self) -> str:
        """The text a viewer sees: what came after the last restart."""
        after = self.events
        if "<restart>" in after:
            after = after[len(after) - after[::-1].index("<restart>") :]
        return "".join(after)


class HangingModel:
    """A streaming model: every call is recorded, hands over ``first_text`` (if any), then
    waits until it is cancelled, and counts that; ``let_go`` seconds pass before it ends
    (an SDK closing its stream and connection)."""

    name = "hanging"

    def __init__(self, first_text: str = "", *, let_go: float = 0.0) -> None:
        self.first_text = first_text
        self.let_go = let_go
        self.calls: list[list[Message]] = []
        self.asked = asyncio.Event()  # set once a call has handed over its first text
        self.cancelled = 0

    async def complete(
        self, *, system: str, messages: Sequence[Message], tools: Sequence[ToolSpec]
    ) -> ModelReply:
        raise AssertionError("stream is used")

    async def stream(
        self,
        *,
        system: str,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec],
        sink: TextSink,
    ) -> ModelReply:
        self.calls.append(list(messages))
        if self.first_text:
            await sink.text(self.first_text)
        self.asked.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            if self.let_go:
                await asyncio.sleep(self.let_go)
            raise
        raise AssertionError("unreachable")


def disk_full_once(outbox: OutboxStore) -> list[int]:
    """``outbox`` fails its first ``complete`` as a full disk would (its later ones work);
    returns the sizes of the batches it refused."""
    record = outbox.complete
    refused: list[int] = []

    def complete(results: list[OutboxDone]) -> None:
        if not refused:
            refused.append(len(results))
            raise OSError(errno.ENOSPC, "No space left on device")
        record(results)

    outbox.complete = complete  # type: ignore[method-assign]
    return refused


async def close_within(engine: Engine, seconds: float = 30.0) -> None:
    """``engine.close()``, failing with where every task waits if it takes longer: a
    teardown that hangs would otherwise stop the whole test run without a word."""
    try:
        await asyncio.wait_for(engine.close(), timeout=seconds)
    except TimeoutError:
        raise AssertionError(f"engine.close() took over {seconds} s:\n{_task_stacks()}") from None


def _task_stacks() -> str:
    out = io.StringIO()
    for task in asyncio.all_tasks():
        task.print_stack(file=out)
    return out.getvalue()


async def ask_and_edit(engine: Engine) -> tuple[str, EditRecorded]:
    """Alice asks to scale api to 12; Carol edits (and so approves) the call: replicas 8."""
    await engine.ingest(message("scale api to 12", ts="1700000000.000100"))
    await engine.idle()
    (waiting,) = await engine.waiting()
    edit = await engine.edit(
        waiting.capsule.id,
        user="U0CAROL",
        arguments={"service": "api", "replicas": 8},
        base_sha256=waiting.capsule.args_sha256,
    )
    assert isinstance(edit, EditRecorded)
    return waiting.capsule.id, edit


async def two_askers_turn(engine: Engine) -> None:
    """Alice's and Bob's messages drained into one turn: a request both of them asked."""
    engine._store(message("restart api", ts="1700000000.000100", user="U0ALICE"))
    engine._store(message("+1, please do", ts="1700000000.000200", user="U0BOB"))
    engine.wake(THREAD)
    await engine.idle()
