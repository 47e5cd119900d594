"""The engine with 1k / 10k / 100k sessions on disk (issue: core engine), in-process.

How ``engine.decide`` → approved tool start, the trace of a 10-session lineage with 10,000
events, and ``Engine.open`` with recovery grow with the home, as ratios to the smallest.
It builds whole homes, unlike engine_bench.py's per-turn and memory benches (whose message
and thread helpers it shares). The Slack click path and ``signoff run``'s start-up are in
scale_bench.py. The filler sessions are hard-linked copies of a template session
directory: this bench follows the storage layout (``Home.sessions_dir``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from agent_core.engine import Engine
from agent_core.history import thread_history
from agent_core.model import ModelReply, RawToolCall
from agent_core.scripted import ScriptedModel
from agent_core.surface import RecordingSurface
from agent_core.tools import ToolContext, ToolRegistry, tool
from bot.trace_view import render_history
from sessions import (
    Home,
    SessionFiles,
    SessionRecord,
    SessionState,
    SessionStore,
    Transition,
    atomic,
)

from .engine_bench import POLICY, inbox_message, thread_key
from .report import median, ms, table


def _template(home: Home) -> tuple[SessionRecord, Path]:
    record = SessionStore(home).create(
        thread=thread_key(0), parent_id=None, cause="message", session_md="bench filler\n"
    )
    directory = home.session_dir(record.id)
    files = SessionFiles(directory)
    files.append_transcript({"role": "user", "text": "filler", "user": "U0ALICE", "ts": "1.1"})
    files.trace("message", {"text": "filler"})
    return record, directory


def _populate(home: Home, total: int) -> list[SessionRecord]:
    """``total`` completed sessions, cloned by hard links from a template (fast).

    A fresh template every 50,000 clones: ext4 allows 65,000 links to one file.
    """
    now = "2026-01-01T00:00:00.000Z"
    records: list[SessionRecord] = []
    templates: list[Path] = []
    for i in range(total):
        if i % 50_000 == 0:
            template, template_dir = _template(home)
            templates.append(template_dir)
        sid = f"sess_{i:012x}"
        target = home.sessions_dir / sid
        shutil.copytree(template_dir, target, copy_function=os.link)
        record = template.model_copy(
            update={
                "id": sid,
                "thread": thread_key(100_000 + i),
                "state": SessionState.COMPLETED,
                "transitions": (
                    *template.transitions,
                    Transition(state=SessionState.COMPLETED, at=now),
                ),
            }
        )
        (target / "session.json").unlink()
        (target / "session.json").write_text(record.model_dump_json())
        records.append(record)
    for directory in templates:
        shutil.rmtree(directory)
    return records


async def _index_filler(home: Home, records: list[SessionRecord]) -> None:
    idx = await Engine.open_index(home)
    for start in range(0, len(records), 5000):
        await idx.put_sessions(records[start : start + 5000])
    await idx.close()


started_at: list[float] = []


@tool(requires_human_approval=True)
def bench_action(n: int, ctx: ToolContext) -> str:
    """A gated no-op that records when it started."""
    started_at.append(time.perf_counter())
    return "done"


async def at_scale(total: int) -> dict[str, float]:
    root = Path(tempfile.mkdtemp(prefix="signoff-bench-"))
    home = Home(root)
    home.ensure()
    atomic.set_fsync(False)
    await _index_filler(home, _populate(home, total))
    registry = ToolRegistry([bench_action])
    gated = ModelReply(
        tool_calls=(RawToolCall(id="c1", name="bench_action", arguments='{"n":1}'),),
        stop_reason="tool_use",
    )
    surface = RecordingSurface()
    model = ScriptedModel([gated], repeat_last=True, record=False)
    engine = await Engine.open(
        home=home, model=model, registry=registry, surface=surface, policy=POLICY
    )
    for i in range(20):
        await engine.ingest(inbox_message(thread_key(i), f"{1700000000 + i}.000100", "go"))
        await engine.idle()
    # A 10-session lineage with 10,000 events for the trace.
    lineage_thread = thread_key(99)
    for i in range(10):
        await engine.ingest(inbox_message(lineage_thread, f"{1700000099 + i}.000200", "go"))
        await engine.idle()
        head = (await engine.rt.index.thread_head(lineage_thread)) or ""
        files = SessionFiles(home.session_dir(head))
        for j in range(1000 - len(files.read_trace(resolve_payloads=False))):
            files.trace("tool_finished", {"call_id": f"c{j}", "status": "ok", "content": "x" * 80})
    await engine.close()
    atomic.set_fsync(True)

    model = ScriptedModel([ModelReply(text="ok")], repeat_last=True, record=False)
    start = time.perf_counter()
    engine = await Engine.open(
        home=home, model=model, registry=registry, surface=surface, policy=POLICY
    )
    await engine.recover()
    await engine.idle()
    startup = time.perf_counter() - start

    decision: list[float] = []  # in-process engine.decide; the Slack click path: bench click
    for capsule in list(surface.cards)[:20]:
        started_at.clear()
        begin = time.perf_counter()
        await engine.decide(capsule.id, user="U0BOB", approve=True)
        await engine.idle()  # the tool stamped its own start time on the way
        decision.append(started_at[0] - begin)
    head = (await engine.rt.index.thread_head(lineage_thread)) or ""
    traces = []
    for _ in range(5):
        begin = time.perf_counter()
        text = render_history(thread_history(home, head))
        traces.append(time.perf_counter() - begin)
    assert text.count("sess_") >= 10
    await engine.close()
    shutil.rmtree(root)
    return {"decision": median(decision), "trace": median(traces), "startup": startup}


async def scale_table(counts: list[int]) -> str:
    results = {n: await at_scale(n) for n in counts}
    base = results[counts[0]]
    rows = []
    for n, r in results.items():
        rows.append(
            [f"{n:,}", ms(r["decision"]), f"{r['decision'] / base['decision']:.2f}x",
             ms(r["trace"]), f"{r['trace'] / base['trace']:.2f}x",
             ms(r["startup"]), f"{r['startup'] / base['startup']:.2f}x"]
        )  # fmt: skip
    return table(
        "At scale, in-process (targets: decision < 50 ms, trace < 200 ms, start-up < 2 s; "
        "ratios vs the smallest; the click path and signoff run's start-up: bench click, startup)",
        ["sessions on disk", "engine.decide→tool start", "ratio", "trace 10×1k events", "ratio",
         "Engine.open + recover", "ratio"],
        rows,
    )  # fmt: skip
