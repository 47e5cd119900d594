"""Long-thread write amplification (issue 14): bytes written for one thread of N turns.

One Slack thread gets ``--turns`` messages, one after the other; each is answered by the
scripted model (every fifth turn first calls an ungated tool, so tickets are written
too). Reported: bytes the process passed to write() while the thread ran (``wchar`` in
/proc/self/io: every file under the home, the SQLite index included, and the temporary
files of atomic replaces), bytes left on disk per kind of file, and both against the
final transcript (the bytes a full copy of it holds). The SQLite index's writes (its
WAL, from aiosqlite's thread) are reported apart: a rebuildable cache whose cost per turn
does not grow with the thread. fsync is off: it changes time, not bytes.
Goal: a 1,000-message thread (500 turns) writes at most 3x its transcript.

Runs against whichever signoff is first on the path, so the old code can be measured
from an unpacked copy:
``PYTHONPATH=/tmp/old .venv/bin/python bench/transcript_bench.py --turns 500``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from agent_core.engine import Engine
from agent_core.model import ModelReply, RawToolCall
from agent_core.scripted import ScriptedModel
from agent_core.surface import RecordingSurface
from agent_core.tools import ToolRegistry, tool
from sessions import (
    Home,
    InboxMessage,
    SessionFiles,
    ThreadDir,
    ThreadKey,
    atomic,
    canonical_json,
    utc_iso,
)

__all__ = ["measure"]

THREAD = ThreadKey(team="T0BENCH", channel="C0BENCH", thread_ts="1700000000.000100")
# Sizes like a chat-ops thread: a sentence or two asked, a short paragraph answered.
QUESTION = "Can you check whether the api service is healthy and what changed since noon? " * 2
ANSWER = (
    "The api service is healthy: 3 of 3 replicas ready, p99 latency 180 ms, no restarts "
    "since 09:12. Since noon one deploy went out (build 4512, config only). "
) * 3


@tool(parallel_safe=True)
def lookup(service: str) -> str:
    """Read a service's status (ungated)."""
    return f"{service}: healthy, 3/3 replicas"


def _steps(turns: int) -> list[ModelReply]:
    steps: list[ModelReply] = []
    for turn in range(turns):
        if turn % 5 == 4:
            raw = RawToolCall(id=f"c{turn}", name="lookup", arguments='{"service":"api"}')
            steps.append(ModelReply(tool_calls=(raw,), stop_reason="tool_use"))
        steps.append(ModelReply(text=ANSWER, stop_reason="end_turn"))
    return steps


def _wchar(task: int | None = None) -> int:
    where = Path("/proc/self/io") if task is None else Path(f"/proc/self/task/{task}/io")
    for line in where.read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    raise RuntimeError(f"no wchar in {where}")


def _index_threads() -> list[int]:
    """aiosqlite's connection threads: what they write is the index (a rebuildable cache)."""
    return [
        t.native_id
        for t in threading.enumerate()
        if t.native_id is not None
        and getattr(getattr(t, "_target", None), "__name__", "") == "_connection_worker_thread"
    ]


def _kind(rel: Path) -> str:
    parts = rel.parts
    # sessions/<shard>/sess_…/<file>, or sessions/sess_…/<file> in a home from before shards
    at = next((i for i, p in enumerate(parts) if p.startswith("sess_")), None)
    if parts[0] != "sessions" or at is None or at + 1 >= len(parts):
        return "index" if rel.name.startswith("index.sqlite3") else "other (threads, outbox, …)"
    inner = "/".join(parts[at + 1 :])
    if inner.startswith("tickets"):
        return "tickets"
    if inner == "trace.jsonl" or inner.startswith(("payloads/", "logs/")):  # logs/: before
        return "trace"
    return inner if "/" not in inner else "other session files"


def _stored(root: Path) -> Counter[str]:
    sizes: Counter[str] = Counter()
    for path in root.rglob("*"):
        if path.is_file():
            sizes[_kind(path.relative_to(root))] += path.stat().st_size
    return sizes


def _read_times(files: SessionFiles) -> dict[str, float]:
    """The head's whole transcript read with nothing cached, then as the next turn reads it."""
    try:
        from sessions.transcript_chain import forget_cached
    except ImportError:  # the code before references: one file, no cache

        def forget_cached() -> None:
            pass

    forget_cached()
    start = time.perf_counter()
    files.read_transcript()
    cold = time.perf_counter() - start
    warm = []
    for _ in range(5):
        start = time.perf_counter()
        files.read_transcript()
        warm.append(time.perf_counter() - start)
    return {"cold_read_ms": round(cold * 1000, 2), "warm_read_ms": round(min(warm) * 1000, 2)}


async def measure(turns: int) -> dict[str, object]:
    root = Path(tempfile.mkdtemp(prefix="signoff-transcript-bench-"))
    home = Home(root)
    home.ensure()
    atomic.set_fsync(False)
    model = ScriptedModel(_steps(turns), record=False)
    engine = await Engine.open(
        home=home, model=model, registry=ToolRegistry([lookup]), surface=RecordingSurface()
    )
    received = utc_iso(datetime(2026, 1, 1, tzinfo=UTC))
    index_threads = _index_threads()
    index_before = sum(_wchar(t) for t in index_threads)
    before, started = _wchar(), time.perf_counter()
    for turn in range(turns):
        ts = f"{1700000001 + turn}.000100"
        await engine.ingest(
            InboxMessage(thread=THREAD, ts=ts, user="U0ALICE", text=QUESTION, received_at=received)
        )
        await engine.idle()
    written, elapsed = _wchar() - before, time.perf_counter() - started
    index_written = sum(_wchar(t) for t in index_threads) - index_before
    await engine.close()
    head = ThreadDir(home, THREAD).head() or ""
    reads = _read_times(SessionFiles(home.session_dir(head)))
    records = SessionFiles(home.session_dir(head)).read_transcript()
    transcript = sum(len((canonical_json(r) + "\n").encode()) for r in records)
    stored = _stored(root)
    atomic.set_fsync(True)
    shutil.rmtree(root)
    return {
        "turns": turns,
        "messages": 2 * turns,
        "transcript_records": len(records),
        "final_transcript_bytes": transcript,
        "written_bytes": written,
        "written_x_transcript": round(written / transcript, 2),
        "index_written_bytes": index_written,
        "files_written_bytes": written - index_written,
        "files_written_x_transcript": round((written - index_written) / transcript, 2),
        "stored_bytes": sum(stored.values()),
        "stored_x_transcript": round(sum(stored.values()) / transcript, 2),
        "stored_by_kind": dict(stored.most_common()),
        "seconds": round(elapsed, 2),
        **reads,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="transcript_bench")
    parser.add_argument("--turns", type=int, default=500, help="500 turns = 1,000 messages")
    args = parser.parse_args()
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        os.environ.pop(name, None)
    print(json.dumps(asyncio.run(measure(args.turns)), indent=2))


if __name__ == "__main__":
    main()
